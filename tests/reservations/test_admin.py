"""Staff review of 契約保証予約 in admin: the list, 承認 with the 予約手数料 and 有効期限,
謝絶 with a reason, the paper 予約証書 and 印刷済; each needs the change permission."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from reservations.models import Reservation
from tests.conftest import BID_DATE, make_reservation, make_staff

S = Reservation.Status
pytestmark = pytest.mark.usefixtures("before_the_bid")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def url(name, reservation):
    return reverse(f"admin:reservations_reservation_{name}", args=[reservation.pk])


def test_the_list_and_the_page_show_the_reservation(staff_client):
    reservation = make_reservation(status="submitted")
    listed = staff_client.get(reverse("admin:reservations_reservation_changelist"))
    assert listed.status_code == 200
    assert reservation.number_display in listed.content.decode()
    page = staff_client.get(url("change", reservation)).content.decode()
    assert "すべての規則を満たしています。" in page
    assert "承認する" in page and "謝絶する" in page
    assert "2025-04-20" in page  # the default 有効期限 offered: 入札日 + 90 days
    assert "12,345,000円" in page and "1,234,500円" in page


def test_staff_approve_with_the_fee_and_the_default_last_day(staff_client):
    reservation = make_reservation(status="submitted")
    response = staff_client.post(url("approve", reservation), {"fee": "30000", "valid_until": ""})
    assert response.status_code == 302
    reservation.refresh_from_db()
    assert (reservation.status, reservation.fee) == (S.APPROVED, 30_000)
    assert reservation.valid_until == BID_DATE.replace(month=4, day=20)
    page = staff_client.get(url("change", reservation)).content.decode()
    assert "印刷済にする" in page and "予約証書（印刷用PDF）" in page


def test_a_refused_approval_says_why(staff_client):
    reservation = make_reservation(status="submitted")
    response = staff_client.post(
        url("approve", reservation), {"fee": "30000", "valid_until": "2025-01-19"}, follow=True
    )
    assert "有効期限は入札日（2025年1月20日）以降" in response.content.decode()
    reservation.refresh_from_db()
    assert reservation.status == S.SUBMITTED


def test_staff_decline_with_a_reason(staff_client):
    reservation = make_reservation(status="submitted")
    staff_client.post(url("decline", reservation), {"reason": "与信枠を超えるため"})
    reservation.refresh_from_db()
    assert (reservation.status, reservation.decline_reason) == (S.DECLINED, "与信枠を超えるため")


def test_the_paper_certificate_prints_and_is_marked_printed(staff_client):
    reservation = make_reservation(status="approved")
    response = staff_client.get(url("certificate", reservation))
    assert response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    text = text.replace(" ", "").replace("\n", "")
    assert "契約保証予約証書" in text and "1,234,500円" in text and "令和7年4月20日" in text
    staff_client.post(url("printed", reservation))
    reservation.refresh_from_db()
    assert reservation.printed_at is not None


def test_a_viewer_without_the_change_permission_cannot_decide(client, db):
    viewer = make_staff(perms=["reservations.view_reservation"])
    client.force_login(viewer)
    reservation = make_reservation(status="submitted")
    assert client.get(url("change", reservation)).status_code == 200
    assert "承認する" not in client.get(url("change", reservation)).content.decode()
    assert client.post(url("approve", reservation), {"fee": "1"}).status_code == 403
    assert client.post(url("decline", reservation), {"reason": "x"}).status_code == 403
    reservation.refresh_from_db()
    assert reservation.status == S.SUBMITTED


@pytest.mark.parametrize("name", ["approve", "decline", "printed"])
def test_decisions_refuse_get(staff_client, name):
    reservation = make_reservation(status="submitted")
    assert staff_client.get(url(name, reservation)).status_code == 405
