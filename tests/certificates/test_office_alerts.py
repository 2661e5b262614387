"""お知らせ to offices (decision 0018): a new version or a cancellation of a guarantee in an
office's list, and a 保証期限 within ESURE_EXPIRY_ALERT_DAYS (daily, idempotent), mail the
office once and badge the list for each user until they open the guarantee."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from certificates import services
from certificates.models import Guarantee, OfficeAlert, Submission
from tests.conftest import (
    MAX_ADVANCE,
    NOW,
    WORK_DATES,
    advance_office,
    deliver_to_inbox,
    make_concluded,
    make_office_user,
    make_registered_guarantee,
)

pytestmark = pytest.mark.usefixtures("frozen")
TODAY = datetime.date(2026, 11, 30)  # tests.conftest.NOW
FEE = {"kind": "none", "fee": 0, "old_amount": MAX_ADVANCE, "new_amount": MAX_ADVANCE}


@pytest.fixture
def office(tsukumi):
    return advance_office(tsukumi)


@pytest.fixture
def official(office):
    return make_office_user(office, email="doboku@city.tsukumi.example.jp")


def opened_with_key(guarantee, office, official):
    """The office user opened it with the key: it is in the office's list (KEY)."""
    return services.record_key_opening(guarantee=guarantee, office=office, by=official)


def test_a_change_on_the_key_path_alerts_and_mails_the_office(
    clerk, office, official, django_capture_on_commit_callbacks
):
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    opened_with_key(guarantee, office, official)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.issue_change(guarantee=guarantee, label="増額", fee=FEE, amount=5_000_000)

    alert = OfficeAlert.objects.get()
    assert (alert.office, alert.kind, alert.subject) == (office, "new_version", "v2")
    [message] = mail.outbox
    assert message.to == [official.email]
    assert "保証内容の変更のお知らせ" in message.subject and "第2版" in message.body


def test_a_delivered_change_is_mailed_once_by_its_delivery(
    clerk, tsukumi, office, official, django_capture_on_commit_callbacks
):
    deliver_to_inbox(tsukumi)
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.issue_change(guarantee=guarantee, label="増額", fee=FEE, amount=5_000_000)

    assert OfficeAlert.objects.get().kind == "new_version"
    office_mails = [m for m in mail.outbox if official.email in m.to]
    assert [m.subject.split("（")[0] for m in office_mails] == ["[esure] 電子証書が届きました"]


def test_a_cancellation_is_its_own_alert(clerk, office, official):
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    opened_with_key(guarantee, office, official)

    services.issue_change(
        guarantee=guarantee, label="解約", fee=FEE, cancelled_on=TODAY, reason="工事中止"
    )

    assert OfficeAlert.objects.get().kind == "cancelled"


def test_a_guarantee_in_no_list_alerts_no_one(clerk, office, official):
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)

    services.issue_change(guarantee=guarantee, label="増額", fee=FEE, amount=5_000_000)

    assert not OfficeAlert.objects.exists()


def ending_in(days, office, official):
    end = TODAY + datetime.timedelta(days=days)
    guarantee = make_registered_guarantee(start_date=datetime.date(2026, 4, 1), end_date=end)
    opened_with_key(guarantee, office, official)
    return guarantee


@pytest.mark.parametrize("days, alerted", [(31, False), (30, True), (29, True), (0, True)])
def test_expiry_boundaries(office, official, days, alerted, django_capture_on_commit_callbacks):
    ending_in(days, office, official)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        made = services.alert_expiring()

    assert (len(made) == 1) is alerted
    assert (len(mail.outbox) == 1) is alerted


def test_expired_and_cancelled_ones_are_not_alerted(office, official):
    ending_in(-1, office, official)
    cancelled = ending_in(10, office, official)
    Guarantee.objects.filter(pk=cancelled.pk).update(cancelled_at=NOW)  # as a 解約 leaves it

    assert services.alert_expiring() == []


def test_the_daily_run_twice_mails_once(office, official, django_capture_on_commit_callbacks):
    first, second = ending_in(5, office, official), ending_in(20, office, official)
    mail.outbox.clear()

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_expiry_alerts", stdout=out)
        call_command("send_expiry_alerts", stdout=out)

    assert out.getvalue().splitlines() == ["expiry alerts made: 2", "expiry alerts made: 0"]
    [message] = mail.outbox  # one mail for the office, both guarantees in it
    assert first.number_display in message.body and second.number_display in message.body
    assert "保証期限が近づいています（2件）" in message.subject
    assert "令和8年12月5日" in message.body


def test_the_setting_moves_the_window(office, official, settings):
    settings.ESURE_EXPIRY_ALERT_DAYS = 60
    ending_in(45, office, official)

    assert len(services.alert_expiring()) == 1


def test_the_badge_shows_until_each_user_opens_it(clerk, tsukumi, office, official, client_for):
    deliver_to_inbox(tsukumi)
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    colleague = make_office_user(office)
    services.issue_change(guarantee=guarantee, label="増額", fee=FEE, amount=5_000_000)
    mine, theirs = client_for(official), client_for(colleague)
    inbox = reverse("dsure:inbox")

    assert "新着：変更" in mine.get(inbox).content.decode()
    assert mine.get(reverse("dsure:viewer", args=[guarantee.number])).status_code == 200
    assert "新着：変更" not in mine.get(inbox).content.decode()
    assert "新着：変更" in theirs.get(inbox).content.decode()  # until they open it too
    assert Submission.objects.filter(guarantee=guarantee).count() == 2
