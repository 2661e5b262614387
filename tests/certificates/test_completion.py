"""完成 (decision 0026): an office holding the guarantee, or staff on the orderer's written
notice, records the day of the 完成検査 / 引渡し once; the guarantee is 完了 everywhere the
registry's status is read, the other offices are alerted, the contractor is mailed."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from certificates import rules, selectors, services
from certificates.models import Guarantee, OfficeAlert
from esure.choices import GuaranteeKind
from tests.conftest import (
    WORK_DATES,
    advance_office,
    listed_numbers,
    make_member,
    make_office_user,
    make_orderer,
    make_registered_guarantee,
    make_staff,
)

pytestmark = pytest.mark.usefixtures("frozen")
TODAY = datetime.date(2026, 11, 30)  # tests.conftest.NOW
START = WORK_DATES["start_date"]  # 2026-11-24, after the 契約日 2026-11-20
FEE = {"kind": "none", "fee": 0, "old_amount": 1, "new_amount": 1}


@pytest.fixture
def office(tsukumi):
    return advance_office(tsukumi)


@pytest.fixture
def official(office):
    return make_office_user(office, email="doboku@city.tsukumi.example.jp")


@pytest.fixture
def guarantee(clerk, office, official):
    guarantee = make_registered_guarantee(clerk.membership.company, **WORK_DATES)
    services.record_key_opening(guarantee=guarantee, office=office, by=official)
    return guarantee


def complete(guarantee, official, office, day=TODAY, note=""):
    return services.record_completion(
        guarantee=guarantee, completed_on=day, by=official, office=office, note=note
    )


def test_an_office_holding_it_records_completion_and_the_guarantee_is_completed(
    guarantee, official, office, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        complete(guarantee, official, office, note="完成検査調書 第12号")

    guarantee.refresh_from_db()
    assert guarantee.completed_on == TODAY
    assert (guarantee.completed_by, guarantee.completed_office) == (official, office)
    assert guarantee.completion_note == "完成検査調書 第12号"
    current = guarantee.certificates.get()
    assert selectors.status_of_guarantee(guarantee, current) == selectors.Status.COMPLETED == "完了"
    event = AuditEvent.objects.filter(action="guarantee.completed").get()
    assert event.data["completed_on"] == "2026-11-30" and event.data["office"] == office.pk
    # The contractor is mailed; the office that recorded it is not mailed about itself.
    [message] = mail.outbox
    assert message.to == [guarantee.company.memberships.get().user.email]
    assert "完成の記録のお知らせ" in message.subject and "令和8年11月30日" in message.body
    alert = OfficeAlert.objects.get()
    assert (alert.office, alert.kind, alert.subject) == (office, "completed", "2026-11-30")


def test_another_office_holding_it_is_alerted_and_mailed(
    guarantee, official, office, tsukumi, django_capture_on_commit_callbacks
):
    other = tsukumi.offices.exclude(pk=office.pk).first()
    colleague = make_office_user(other, email="keiyaku@city.tsukumi.example.jp")
    services.record_key_opening(guarantee=guarantee, office=other, by=colleague)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        complete(guarantee, official, office)

    assert set(OfficeAlert.objects.values_list("office", flat=True)) == {office.pk, other.pk}
    [office_mail] = [m for m in mail.outbox if colleague.email in m.to]
    assert "完成が記録されました" in office_mail.subject


@pytest.mark.parametrize(
    "day, message",
    [
        (TODAY, None),  # today: the inspection has happened
        (TODAY + datetime.timedelta(days=1), rules.MSG_COMPLETION_FUTURE),
        (START, None),  # the 工期's first day
        (START - datetime.timedelta(days=1), "完成日は契約日・工期の始まり（令和8年11月24日）"),
    ],
)
def test_the_day_is_neither_in_the_future_nor_before_the_work_began(
    guarantee, official, office, day, message
):
    if message is None:
        complete(guarantee, official, office, day=day)
        guarantee.refresh_from_db()
        assert guarantee.completed_on == day
    else:
        with pytest.raises(ValidationError) as error:
            complete(guarantee, official, office, day=day)
        assert message in error.value.message_dict["completed_on"][0]
        guarantee.refresh_from_db()
        assert guarantee.completed_on is None


def test_the_contract_day_bounds_it_when_it_is_later_than_the_start():
    problem = rules.completion_problem(
        completed_on=datetime.date(2026, 11, 19),
        today=TODAY,
        earliest=max(datetime.date(2026, 11, 20), datetime.date(2026, 11, 1)),
        cancelled=False,
        already_completed_on=None,
    )
    assert problem == rules.MSG_COMPLETION_BEFORE_START.format(start="令和8年11月20日")


def test_it_is_recorded_once(guarantee, official, office):
    complete(guarantee, official, office, day=START)
    with pytest.raises(ValidationError) as error:
        complete(guarantee, official, office)
    assert error.value.message_dict["completed_on"] == [
        rules.MSG_ALREADY_COMPLETED.format(day="令和8年11月24日")
    ]
    assert Guarantee.objects.get(pk=guarantee.pk).completed_on == START


def test_a_cancelled_guarantee_cannot_be_completed(guarantee, official, office):
    Guarantee.objects.filter(pk=guarantee.pk).update(
        cancelled_at=datetime.datetime.now(datetime.UTC)
    )
    with pytest.raises(ValidationError) as error:
        complete(guarantee, official, office)
    assert error.value.message_dict["completed_on"] == [rules.MSG_COMPLETION_CANCELLED]


def test_a_completed_guarantee_takes_no_change(guarantee, official, office):
    complete(guarantee, official, office)
    with pytest.raises(ValueError, match="completed"):
        services.issue_change(guarantee=guarantee, label="増額", fee=FEE, amount=5_000_000)


def test_an_office_that_never_held_it_may_not(guarantee, tsukumi, office):
    other = tsukumi.offices.exclude(pk=office.pk).first()
    stranger = make_office_user(other, email="keiyaku@city.tsukumi.example.jp")
    with pytest.raises(PermissionDenied):
        complete(guarantee, stranger, other)


def test_another_orderers_office_may_not(guarantee):
    oita = make_orderer(name="大分市")
    office = oita.offices.first()
    with pytest.raises(PermissionDenied):
        complete(guarantee, make_office_user(office), office)


def test_a_user_of_another_office_may_not_act_for_this_one(guarantee, tsukumi, office):
    other = tsukumi.offices.exclude(pk=office.pk).first()
    with pytest.raises(PermissionDenied):
        complete(guarantee, make_office_user(other), office)


def test_the_contractor_may_not(guarantee):
    clerk = make_member(guarantee.company)
    with pytest.raises(PermissionDenied):
        services.record_completion(guarantee=guarantee, completed_on=TODAY, by=clerk)
    assert Guarantee.objects.get(pk=guarantee.pk).completed_on is None


def test_staff_record_it_on_the_orderers_written_notice(guarantee):
    staff = make_staff()
    services.record_completion(
        guarantee=guarantee, completed_on=TODAY, by=staff, note="令和8年11月30日付 完成通知"
    )
    guarantee.refresh_from_db()
    assert (guarantee.completed_by, guarantee.completed_office) == (staff, None)


def test_a_contract_guarantee_ends_by_the_same_record(clerk, office, official):
    contract = make_registered_guarantee(
        clerk.membership.company, kind=GuaranteeKind.CONTRACT, amount=1_234_500, **WORK_DATES
    )
    services.record_key_opening(guarantee=contract, office=office, by=official)
    complete(contract, official, office)
    contract.refresh_from_db()
    assert selectors.status_of_guarantee(contract, contract.certificates.get()) == "完了"


# --- One status, wherever it is read ----------------------------------------------------------


@pytest.mark.parametrize(
    "cancelled, completed, ends_on, version, expected",
    [
        (True, False, TODAY, 1, "解約"),
        (False, True, TODAY, 1, "完了"),
        (False, True, TODAY - datetime.timedelta(days=1), 2, "完了"),  # over 期間満了
        (False, False, TODAY - datetime.timedelta(days=1), 1, "期間満了"),
        (False, False, TODAY, 2, "変更あり"),
        (False, False, TODAY, 1, "有効"),
    ],
)
def test_status_of_ranks_completed_after_cancelled_only(
    cancelled, completed, ends_on, version, expected
):
    status = selectors.status_of(
        cancelled=cancelled,
        completed=completed,
        current_version=version,
        ends_on=ends_on,
        today=TODAY,
    )
    assert status == expected


def test_the_office_list_filters_completed_with_the_same_definition(
    guarantee, clerk, office, official
):
    running = make_registered_guarantee(clerk.membership.company, **WORK_DATES)
    services.record_key_opening(guarantee=running, office=office, by=official)
    complete(guarantee, official, office)

    for status, expected in [("完了", [guarantee]), ("有効", [running])]:
        rows = list(selectors.office_list(office, status=status))
        assert rows == expected
        selectors.label_office_rows(rows)
        assert [g.status for g in rows] == [status]


def test_the_contractors_list_labels_it_completed(guarantee, clerk_client, official, office):
    complete(guarantee, official, office)
    response = clerk_client.get(reverse("certs:index"))
    assert listed_numbers(response) == [guarantee.number]
    assert '<span class="badge">完了</span>' in response.content.decode()


def test_a_completed_guarantee_gets_no_expiry_alert(guarantee, official, office):
    complete(guarantee, official, office)
    made = services.alert_expiring(today=WORK_DATES["end_date"] - datetime.timedelta(days=5))
    assert made == []
