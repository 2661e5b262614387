"""A 契約保証予約 from draft to used or lapsed: one status table, every move recorded, used
once only, never electronic (decision 0034)."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from accounts.models import Membership
from accounts.selectors import MSG_APPROVER_ONLY
from applications import rules as application_rules
from applications.models import Application
from audit.models import AuditEvent
from certificates.models import Guarantee
from esure.choices import GuaranteeKind
from reservations import rules, services
from reservations.models import ALLOWED, Reservation, ReservationStatus
from tests.conftest import (
    BID_DATE,
    MIN_CONTRACT,
    PRICE,
    make_company,
    make_member,
    make_reservation,
    make_staff,
)

S = ReservationStatus
LAST_DAY = BID_DATE + datetime.timedelta(days=90)  # 2025-04-20


def at(day):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, 10), tick=False)


@pytest.fixture
def clerk_company(clerk):
    return clerk.membership.company


@pytest.mark.usefixtures("before_the_bid")
def test_issued_then_used_makes_a_menu1_draft_with_its_data(clerk, clerk_company, staff):
    reservation = make_reservation(company=clerk_company, by=clerk)
    reservation = services.submit_reservation(reservation=reservation, by=clerk)
    assert reservation.status == S.SUBMITTED and reservation.submitted_by == clerk
    reservation = services.approve_reservation(reservation=reservation, by=staff, fee=30_000)
    assert reservation.status == S.APPROVED
    assert reservation.valid_until == LAST_DAY  # 入札日 + ESURE_RESERVATION_VALID_DAYS (90)
    assert reservation.fee == 30_000

    reservation = services.use_reservation(reservation=reservation, by=clerk)
    assert reservation.status == S.USED
    application = reservation.application
    assert application.menu == Application.Menu.ADVANCE_CONTRACT
    assert application.status == Application.Status.DRAFT
    assert application.company == clerk_company
    work = application.work
    assert (work.orderer, work.name, work.price) == (
        reservation.orderer,
        "市道堅徳線道路改良工事（入札）",
        PRICE,
    )
    items = {item.kind: item.amount for item in application.items.all()}
    assert items == {GuaranteeKind.ADVANCE: None, GuaranteeKind.CONTRACT: MIN_CONTRACT}
    moves = list(reservation.status_changes.values_list("old_status", "new_status"))
    assert moves == [("draft", "submitted"), ("submitted", "approved"), ("approved", "used")]
    actions = set(
        AuditEvent.objects.filter(object_id=str(reservation.pk)).values_list("action", flat=True)
    )
    assert {"reservation.submitted", "reservation.approved", "reservation.used"} <= actions


def test_used_twice_is_refused_with_a_japanese_message(clerk, clerk_company):
    reservation = make_reservation(company=clerk_company, status="approved")
    with at(BID_DATE):
        first = services.use_reservation(reservation=reservation, by=clerk)
        with pytest.raises(ValidationError) as refused:
            services.use_reservation(reservation=reservation, by=clerk)
    assert refused.value.messages == [rules.MSG_USED.format(application=first.application_id)]
    assert Application.objects.filter(company=clerk_company).count() == 1


@pytest.mark.parametrize(
    "day, usable",
    [
        (LAST_DAY - datetime.timedelta(days=1), True),
        (LAST_DAY, True),
        (LAST_DAY + datetime.timedelta(days=1), False),
    ],
)
def test_it_is_usable_through_its_last_day_and_lapsed_after(clerk, clerk_company, day, usable):
    reservation = make_reservation(company=clerk_company, status="approved")
    with at(day):
        if usable:
            assert services.use_reservation(reservation=reservation, by=clerk).status == S.USED
        else:
            with pytest.raises(ValidationError) as refused:
                services.use_reservation(reservation=reservation, by=clerk)
            assert refused.value.messages == [rules.MSG_LAPSED.format(date="2025年4月20日")]
            assert reservation.status_on(day) == S.LAPSED
    assert Application.objects.filter(company=clerk_company).exists() is usable


def test_the_daily_command_records_the_lapse(clerk_company, capsys):
    valid = make_reservation(company=clerk_company, status="approved")
    due = make_reservation(
        company=clerk_company, status="approved", valid_until=LAST_DAY - datetime.timedelta(days=1)
    )
    with at(LAST_DAY):
        call_command("lapse_reservations")
    assert "1件" in capsys.readouterr().out
    valid.refresh_from_db()
    due.refresh_from_db()
    assert (valid.status, due.status) == (S.APPROVED, S.LAPSED)
    change = due.status_changes.get()
    assert (change.old_status, change.new_status, change.by) == ("approved", "lapsed", None)
    assert AuditEvent.objects.filter(action="reservation.lapsed", object_id=str(due.pk)).exists()


def test_a_lapsed_one_is_refused_too(clerk, clerk_company):
    reservation = make_reservation(company=clerk_company, status="lapsed")
    with at(BID_DATE), pytest.raises(ValidationError) as refused:
        services.use_reservation(reservation=reservation, by=clerk)
    assert refused.value.messages == [rules.MSG_LAPSED.format(date="2025年4月20日")]


@pytest.mark.parametrize("status", ["draft", "submitted", "declined"])
def test_one_not_approved_cannot_be_used(clerk, clerk_company, status):
    reservation = make_reservation(company=clerk_company, status=status)
    with at(BID_DATE), pytest.raises(ValidationError) as refused:
        services.use_reservation(reservation=reservation, by=clerk)
    assert refused.value.messages == [rules.MSG_NOT_APPROVED]


def test_the_status_table_is_the_one_of_the_brief():
    assert {
        S.DRAFT: {S.SUBMITTED},
        S.SUBMITTED: {S.APPROVED, S.DECLINED},
        S.APPROVED: {S.USED, S.LAPSED},
        S.USED: {S.APPROVED},  # given back (decision 0041: test_give_back.py)
    } == ALLOWED


@pytest.mark.usefixtures("before_the_bid")
@pytest.mark.parametrize("status", ["draft", "approved", "declined", "used", "lapsed"])
def test_only_a_submitted_one_is_approved_or_declined(status, staff):
    reservation = make_reservation(status=status)
    with pytest.raises(services.TransitionError):
        services.approve_reservation(reservation=reservation, by=staff, fee=1)
    with pytest.raises(services.TransitionError):
        services.decline_reservation(reservation=reservation, by=staff, reason="与信枠の超過")


@pytest.mark.usefixtures("before_the_bid")
@pytest.mark.parametrize("status", ["submitted", "approved", "declined", "used", "lapsed"])
def test_only_a_draft_is_submitted(db, status):
    reservation = make_reservation(status=status)
    with pytest.raises(services.TransitionError):
        services.submit_reservation(reservation=reservation, by=reservation.created_by)


@pytest.mark.usefixtures("before_the_bid")
def test_a_decline_needs_a_reason_and_keeps_it(staff):
    reservation = make_reservation(status="submitted")
    with pytest.raises(ValidationError):
        services.decline_reservation(reservation=reservation, by=staff, reason="  ")
    services.decline_reservation(reservation=reservation, by=staff, reason="与信枠の超過")
    reservation.refresh_from_db()
    assert (reservation.status, reservation.decline_reason) == (S.DECLINED, "与信枠の超過")
    assert AuditEvent.objects.filter(action="reservation.declined").exists()


@pytest.mark.usefixtures("before_the_bid")
def test_staff_may_set_another_last_day_but_not_before_the_bid(staff):
    reservation = make_reservation(status="submitted")
    with pytest.raises(ValidationError) as refused:
        services.approve_reservation(
            reservation=reservation,
            by=staff,
            fee=30_000,
            valid_until=BID_DATE - datetime.timedelta(days=1),
        )
    assert rules.MSG_VALID_UNTIL_BEFORE_BID.format(bid_date="2025年1月20日") in (
        refused.value.messages
    )
    approved = services.approve_reservation(
        reservation=reservation, by=staff, fee=30_000, valid_until=BID_DATE
    )
    assert approved.valid_until == BID_DATE


@pytest.mark.usefixtures("before_the_bid")
def test_approval_checks_the_rules_again(staff):
    reservation = make_reservation(status="submitted", amount=MIN_CONTRACT - 1)
    with pytest.raises(ValidationError) as refused:
        services.approve_reservation(reservation=reservation, by=staff, fee=30_000)
    assert refused.value.message_dict["amount"] == [
        application_rules.MSG_CONTRACT_UNDER_MIN.format(ratio=10, min="1,234,500円")
    ]


@pytest.mark.usefixtures("before_the_bid")
def test_a_drafter_cannot_submit_and_the_draft_stays(db):
    company = make_company()
    make_member(company)  # the 承認者
    drafter = make_member(company, role=Membership.Role.MEMBER, duty=Membership.Duty.DRAFTER)
    reservation = make_reservation(company=company, by=drafter)
    with pytest.raises(PermissionDenied) as refused:
        services.submit_reservation(reservation=reservation, by=drafter)
    assert str(refused.value) == MSG_APPROVER_ONLY
    reservation.refresh_from_db()
    assert reservation.status == S.DRAFT


@pytest.mark.usefixtures("before_the_bid")
def test_an_incomplete_one_is_not_submitted_and_says_why(clerk, clerk_company):
    reservation = make_reservation(company=clerk_company, by=clerk, work_name="", amount=None)
    with pytest.raises(ValidationError) as refused:
        services.submit_reservation(reservation=reservation, by=clerk)
    assert refused.value.message_dict["work_name"] == [rules.MSG_REQUIRED]
    assert refused.value.message_dict["amount"] == [rules.MSG_REQUIRED]


def test_it_is_never_delivered_electronically(clerk, clerk_company, tsukumi):
    # The delivery rule refuses the kind itself (DESIGN.md §5.5), whatever the orderer.
    refusal = application_rules.electronic_delivery_refusal(
        orderer=tsukumi,
        contract_date=datetime.date(2025, 1, 20),
        contract_method="general",
        kind=application_rules.CONTRACT_RESERVATION,
    )
    assert refusal == application_rules.REFUSAL_KIND.format(kind="契約保証予約")
    # A reservation has no delivery choice, no 保証契約番号, no 認証キー, nothing in D-Sure:
    # the whole life of one creates no guarantee of the registry.
    assert not any(f.name in {"delivery", "key_version"} for f in Reservation._meta.fields)
    reservation = make_reservation(company=clerk_company, status="approved")
    with at(BID_DATE):
        services.use_reservation(reservation=reservation, by=clerk)
    assert not Guarantee.objects.exists()


def test_printed_once_and_audited(staff):
    reservation = make_reservation(status="approved")
    assert services.mark_printed(reservation=reservation, by=staff) is True
    assert services.mark_printed(reservation=reservation, by=staff) is False
    reservation.refresh_from_db()
    assert reservation.printed_at is not None
    assert AuditEvent.objects.filter(action="reservation.printed").count() == 1


def test_every_action_it_writes_is_named():
    for status in [s for targets in ALLOWED.values() for s in targets]:
        assert f"reservation.{status}" in AuditEvent.Action.values, status


def test_a_staff_user_is_only_a_reviewer(db):
    # make_staff is not a member of any company: it cannot submit one.
    reservation = make_reservation()
    with pytest.raises(PermissionDenied):
        services.submit_reservation(reservation=reservation, by=make_staff())
