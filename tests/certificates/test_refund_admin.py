"""Staff record the return of a 減額 refund in admin when it is reported to them (decision
0041): a form on the refund's page, guarded by `certificates.record_refund_return`, calling
the service the office uses (certificates.services.record_refund_return: the same rule, the
contractor's mail, the audit event). Without the permission: 403, nothing recorded."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from certificates import rules
from certificates.models import Refund
from tests.conftest import WORK_DATES, make_concluded, make_staff

pytestmark = pytest.mark.usefixtures("frozen")
REPORT = "津久見市 令和8年11月30日付 調定第5号の写し（受注者より）"
PERMS = ["certificates.view_refund", "certificates.record_refund_return"]


@pytest.fixture
def refund(clerk, tsukumi):
    """1,900,000円 due 2026-12-25 (as open_refund makes after a 減額 to 6,000,000)."""
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return Refund.objects.create(
        guarantee=guarantee,
        certificate=guarantee.certificates.get(),
        received=4_900_000,
        new_price=6_000_000,
        rate_tenths=5,
        amount=1_900_000,
        reduced_on=datetime.date(2026, 11, 25),
        due_on=datetime.date(2026, 12, 25),
    )


def returned_url(refund):
    return reverse("admin:certificates_refund_returned", args=[refund.pk])


def change_url(refund):
    return reverse("admin:certificates_refund_change", args=[refund.pk])


def test_staff_with_the_permission_record_the_return(
    client_for, refund, clerk, django_capture_on_commit_callbacks
):
    browser = client_for(make_staff(perms=PERMS))
    assert "返還を記録する" in browser.get(change_url(refund)).content.decode()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(returned_url(refund), {"returned_on": "2026-11-30", "note": REPORT})

    assert response.status_code == 302 and response["Location"] == change_url(refund)
    refund.refresh_from_db()
    assert str(refund.returned_on) == "2026-11-30"
    assert refund.note == REPORT and refund.recorded_office is None and refund.recorded_by.is_staff
    event = AuditEvent.objects.get(action="refund.returned")
    assert event.data["office"] is None and event.data["amount"] == 1_900_000
    assert [clerk.email] in [m.to for m in mail.outbox]
    assert "返還済: 令和8年11月30日" in browser.get(change_url(refund)).content.decode()


def test_the_guarantee_page_links_to_the_refund(client_for, refund):
    browser = client_for(make_staff(perms=["certificates.view_guarantee", *PERMS]))
    page = browser.get(reverse("admin:certificates_guarantee_change", args=[refund.guarantee.pk]))
    assert change_url(refund) in page.content.decode()


@pytest.mark.parametrize(
    "day, message",
    sorted(
        [
            ("2026-12-01", rules.MSG_RETURN_FUTURE),  # just over today
            (
                "2026-11-24",
                rules.MSG_RETURN_BEFORE_REDUCTION.format(day="令和8年11月25日"),
            ),  # just under the reduction
        ]
    ),
)
def test_the_rule_of_the_office_applies(client_for, refund, day, message):
    browser = client_for(make_staff(perms=PERMS))
    response = browser.post(returned_url(refund), {"returned_on": day, "note": REPORT}, follow=True)
    assert message in response.content.decode()
    assert Refund.objects.get(pk=refund.pk).returned_on is None


@pytest.mark.parametrize("day", sorted(["2026-11-25", "2026-11-30"]))  # the reduction, today
def test_the_boundary_days_are_accepted(client_for, refund, day):
    browser = client_for(make_staff(perms=PERMS))
    browser.post(returned_url(refund), {"returned_on": day, "note": REPORT})
    assert str(Refund.objects.get(pk=refund.pk).returned_on) == day


def test_a_return_is_recorded_once(client_for, refund):
    browser = client_for(make_staff(perms=PERMS))
    browser.post(returned_url(refund), {"returned_on": "2026-11-30", "note": REPORT})
    response = browser.post(
        returned_url(refund), {"returned_on": "2026-11-29", "note": REPORT}, follow=True
    )
    assert rules.MSG_ALREADY_RETURNED.format(day="令和8年11月30日") in response.content.decode()
    assert str(Refund.objects.get(pk=refund.pk).returned_on) == "2026-11-30"


def test_the_report_is_required(client_for, refund):
    browser = client_for(make_staff(perms=PERMS))
    browser.post(returned_url(refund), {"returned_on": "2026-11-30", "note": ""})
    assert Refund.objects.get(pk=refund.pk).returned_on is None


def test_staff_without_the_permission_get_403(client_for, refund):
    browser = client_for(make_staff(perms=["certificates.view_refund"]))
    response = browser.post(returned_url(refund), {"returned_on": "2026-11-30", "note": REPORT})
    assert response.status_code == 403
    assert Refund.objects.get(pk=refund.pk).returned_on is None
    assert "返還の記録には権限が必要です。" in browser.get(change_url(refund)).content.decode()


def test_get_is_not_allowed(client_for, refund):
    browser = client_for(make_staff(perms=PERMS))
    assert browser.get(returned_url(refund)).status_code == 405


def test_a_missing_refund_is_404(client_for, refund):
    browser = client_for(make_staff(perms=PERMS))
    missing = reverse("admin:certificates_refund_returned", args=[refund.pk + 1000])
    assert browser.post(missing, {"returned_on": "2026-11-30", "note": REPORT}).status_code == 404


def test_a_contractor_and_an_anonymous_visitor_are_sent_to_the_login(client, clerk_client, refund):
    for browser in (client, clerk_client):
        response = browser.post(returned_url(refund), {"returned_on": "2026-11-30", "note": REPORT})
        assert response.status_code == 302 and "login" in response["Location"]
    assert Refund.objects.get(pk=refund.pk).returned_on is None
