"""The clerk's 契約保証予約 pages through HTTP: apply, the 手数料通知書 PDF, the turn into a
menu-1 application; another company's reservation is a 404, the drafter's 申込む a 403."""

import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import Membership
from accounts.selectors import MSG_APPROVER_ONLY
from applications.models import Application
from reservations import rules
from reservations.models import Reservation
from tests.certificates.test_pdf_documents import assert_only_ipaex_subsets
from tests.conftest import (
    BID_DATE,
    MIN_CONTRACT,
    PRICE,
    log_in,
    make_company,
    make_member,
    make_reservation,
)

S = Reservation.Status


def form_post(orderer, **overrides):
    return {
        "orderer": orderer.pk,
        "work_name": "津久見港線道路改良工事",
        "bid_date": BID_DATE.isoformat(),
        "estimated_price": "１２，３４５，０００",
        "amount": f"{MIN_CONTRACT:,}",
        "advance_planned": "on",
        "contact_name": "大分 花子",
        "contact_phone": "0972-82-1234",
        "action": "submit",
        **overrides,
    }


@pytest.fixture
def company(clerk):
    return clerk.membership.company


def pdf_text(data):
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.usefixtures("before_the_bid")
def test_an_approver_applies_and_it_is_submitted(clerk_client, company, tsukumi):
    response = clerk_client.post(reverse("reservations:new"), form_post(tsukumi))
    reservation = Reservation.objects.get(company=company)
    assert response.status_code == 302
    assert response["Location"] == reverse("reservations:detail", args=[reservation.pk])
    assert reservation.status == S.SUBMITTED
    assert (reservation.estimated_price, reservation.amount) == (PRICE, MIN_CONTRACT)
    page = clerk_client.get(response["Location"]).content.decode()
    assert "手続き中" in page and "書面交付（契約保証予約は電子交付の対象外です）" in page


@pytest.mark.usefixtures("before_the_bid")
def test_a_refused_submission_keeps_the_input_and_says_why(clerk_client, company, tsukumi):
    response = clerk_client.post(
        reverse("reservations:new"), form_post(tsukumi, amount="1,234,499")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "1,234,499" in page  # the input is kept
    assert "契約保証の保証金額は、請負代金額の10%" in page
    assert Reservation.objects.get(company=company).status == S.DRAFT


@pytest.mark.usefixtures("before_the_bid")
def test_a_drafter_saves_but_gets_a_403_with_the_message_on_submit(client, tsukumi):
    company = make_company()
    make_member(company)
    drafter = make_member(company, role=Membership.Role.MEMBER, duty=Membership.Duty.DRAFTER)
    log_in(client, drafter)
    response = client.post(reverse("reservations:new"), form_post(tsukumi))
    assert response.status_code == 403
    assert MSG_APPROVER_ONLY in response.content.decode()
    reservation = Reservation.objects.get(company=company)
    assert reservation.status == S.DRAFT  # saved as typed
    response = client.post(reverse("reservations:submit", args=[reservation.pk]))
    assert response.status_code == 403
    assert MSG_APPROVER_ONLY in response.content.decode()
    # The drafter's form has no 申込む button, only the hint.
    page = client.get(reverse("reservations:edit", args=[reservation.pk])).content.decode()
    assert 'value="submit"' not in page and "承認者に申込（送信）を依頼" in page


def test_the_fee_notice_is_a_pdf_with_real_fonts_and_the_fee(clerk_client, company):
    reservation = make_reservation(company=company, status="approved")
    response = clerk_client.get(reverse("reservations:fee_notice", args=[reservation.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content) if response.streaming else response.content
    text = pdf_text(data).replace(" ", "").replace("\n", "")
    assert "手数料通知書" in text
    assert reservation.number_display in text
    assert "30,000円" in text  # 予約手数料
    assert "1,234,500円" in text  # 予約する保証金額
    assert "令和7年4月20日" in text  # 有効期限
    assert "電子交付の対象外" in text
    assert_only_ipaex_subsets(data)


@pytest.mark.parametrize("status", ["draft", "submitted", "declined"])
def test_no_fee_notice_before_approval(clerk_client, company, status):
    reservation = make_reservation(company=company, status=status)
    response = clerk_client.get(reverse("reservations:fee_notice", args=[reservation.pk]))
    assert response.status_code == 404


def test_the_clerk_is_never_offered_the_reservation_certificate(clerk_client, company):
    reservation = make_reservation(company=company, status="approved")
    page = clerk_client.get(reverse("reservations:detail", args=[reservation.pk])).content
    page = page.decode()
    assert "手数料通知書（PDF）" in page
    assert "certificate.pdf" not in page and "認証キー" not in page and "電子交付を希望" not in page
    admin_pdf = reverse("admin:reservations_reservation_certificate", args=[reservation.pk])
    assert clerk_client.get(admin_pdf, follow=True).status_code in (403, 404)


def test_use_makes_the_application_and_opens_it(clerk_client, company):
    reservation = make_reservation(company=company, status="approved")
    with time_machine.travel(datetime.datetime(2025, 2, 1, 10), tick=False):
        response = clerk_client.post(reverse("reservations:use", args=[reservation.pk]))
    application = Application.objects.get(company=company)
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:edit", args=[application.pk])
    page = clerk_client.get(response["Location"]).content.decode()
    assert "市道堅徳線道路改良工事（入札）" in page  # the work name, as a default
    assert "12,345,000" in page and "1,234,500" in page
    reservation.refresh_from_db()
    assert reservation.status == S.USED
    detail = clerk_client.get(reverse("reservations:detail", args=[reservation.pk])).content
    assert "使用済" in detail.decode()
    # A second press: refused with the Japanese message, no second application.
    with time_machine.travel(datetime.datetime(2025, 2, 1, 10), tick=False):
        again = clerk_client.post(reverse("reservations:use", args=[reservation.pk]), follow=True)
    assert rules.MSG_USED.format(application=application.pk) in again.content.decode()
    assert Application.objects.filter(company=company).count() == 1


def test_the_list_shows_lapsed_ones_as_such(clerk_client, company):
    make_reservation(company=company, status="approved", work_name="期限の過ぎた工事")
    with time_machine.travel(datetime.datetime(2025, 4, 21, 10), tick=False):
        page = clerk_client.get(reverse("reservations:index")).content.decode()
        detail_page = clerk_client.get(
            reverse("reservations:detail", args=[Reservation.objects.get().pk])
        ).content.decode()
    assert "期限の過ぎた工事" in page and "期限切れ" in page
    assert "この予約で保証を申し込む" not in detail_page


URLS = [
    ("get", "reservations:detail"),
    ("get", "reservations:edit"),
    ("post", "reservations:edit"),
    ("post", "reservations:submit"),
    ("get", "reservations:fee_notice"),
    ("post", "reservations:use"),
]


@pytest.mark.parametrize("method, name", URLS)
def test_another_companys_reservation_is_a_404(client_for, other_clerk, method, name):
    reservation = make_reservation(status="approved")
    response = getattr(client_for(other_clerk), method)(reverse(name, args=[reservation.pk]))
    assert response.status_code == 404
    reservation.refresh_from_db()
    assert reservation.status == S.APPROVED


def test_a_joint_venture_member_does_not_see_the_representatives_reservation(client_for):
    from accounts.models import JointVenture, JointVentureMember

    leader, member = make_company(), make_company()
    leader_user, member_user = make_member(leader), make_member(member)
    jv = JointVenture.objects.create(
        name="津久見・テスト特定建設工事共同企業体",
        kind=JointVenture.Kind.SPECIFIC,
        representative=leader,
        created_by=leader_user,
    )
    JointVentureMember.objects.create(joint_venture=jv, company=leader, share="60.0")
    JointVentureMember.objects.create(joint_venture=jv, company=member, share="40.0")
    reservation = make_reservation(company=leader, status="approved", joint_venture=jv)
    browser = client_for(member_user)
    assert browser.get(reverse("reservations:detail", args=[reservation.pk])).status_code == 404
    assert "津久見・テスト" not in browser.get(reverse("reservations:index")).content.decode()


@pytest.mark.parametrize("name", ["reservations:submit", "reservations:use"])
def test_post_only_actions_refuse_get(clerk_client, company, name):
    reservation = make_reservation(company=company, status="approved")
    assert clerk_client.get(reverse(name, args=[reservation.pk])).status_code == 405


@pytest.mark.parametrize(
    "name, args",
    [
        ("reservations:index", []),
        ("reservations:new", []),
        ("reservations:detail", [1]),
        ("reservations:fee_notice", [1]),
    ],
)
def test_anonymous_is_sent_to_login(client, db, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_home_menu_links_the_reservations(clerk_client):
    page = clerk_client.get(reverse("home")).content.decode()
    assert reverse("reservations:index") in page
