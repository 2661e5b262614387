"""A reservation given back (decision 0041): the menu-1 application a 契約保証予約 became is
withdrawn (取下げ, by the clerk) or declined (謝絶, by staff) — the reservation is 予約済（有効）
again and may be used again through its 有効期限, or 期限切れ past it. The workflow tells the
reservations app through applications.signals.closed (applications imports no reservations)."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from applications import services as applications
from applications.models import Application
from audit.models import AuditEvent
from reservations import services
from reservations.models import ALLOWED, ReservationStatus
from tests.conftest import BID_DATE, make_reservation, make_staff

S = ReservationStatus
LAST_DAY = BID_DATE + datetime.timedelta(days=90)  # 2025-04-20, as make_reservation sets it


def at(day):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, 10), tick=False)


@pytest.fixture
def used(clerk):
    """An approved reservation, used on the 入札日: its menu-1 draft exists."""
    reservation = make_reservation(company=clerk.membership.company, status="approved")
    with at(BID_DATE):
        return services.use_reservation(reservation=reservation, by=clerk)


def test_a_withdrawn_application_gives_the_reservation_back(used, clerk, clerk_client):
    application = used.application
    with at(BID_DATE):
        response = clerk_client.post(reverse("applications:withdraw", args=[application.pk]))
    assert response.status_code == 302

    used.refresh_from_db()
    assert used.status == S.APPROVED and used.application is None
    assert Application.objects.get(pk=application.pk).status == Application.Status.WITHDRAWN
    last = used.status_changes.last()
    assert (last.old_status, last.new_status, last.by) == ("used", "approved", clerk)
    assert last.note == f"申込番号 {application.pk} の取下げにより返却"
    event = AuditEvent.objects.get(action="reservation.returned")
    assert event.object_id == str(used.pk) and event.data["to"] == "approved"
    # The approval stays as staff made it: its fee, its last day.
    assert (used.fee, used.valid_until) == (30_000, LAST_DAY)

    with at(BID_DATE):
        page = clerk_client.get(reverse("reservations:detail", args=[used.pk])).content.decode()
    assert "この予約で保証を申し込む" in page and "取下げにより返却" in page


def test_a_given_back_reservation_is_used_again(used, clerk):
    first = used.application
    with at(BID_DATE):
        applications.withdraw_application(application=first, by=clerk)
        again = services.use_reservation(reservation=used, by=clerk)
    assert again.status == S.USED and again.application_id != first.pk


def test_a_declined_application_gives_it_back_too(used, clerk):
    application = used.application
    staff = make_staff()
    # Setup: as submitted (the reservation's draft still lacks the 前払金 the clerk types).
    Application.objects.filter(pk=application.pk).update(status=Application.Status.SUBMITTED)
    with at(BID_DATE):
        applications.decline_application(application=application, by=staff, reason="審査の結果")
    used.refresh_from_db()
    assert used.status == S.APPROVED
    assert used.status_changes.last().note == f"申込番号 {application.pk} の謝絶により返却"


@pytest.mark.parametrize(
    "day, status",
    sorted(
        [
            (LAST_DAY - datetime.timedelta(days=1), S.APPROVED),  # just under
            (LAST_DAY, S.APPROVED),  # at: usable through its last day
            (LAST_DAY + datetime.timedelta(days=1), S.LAPSED),  # just over
        ]
    ),
)
def test_given_back_within_its_validity_or_lapsed(used, clerk, day, status):
    with at(day):
        applications.withdraw_application(application=used.application, by=clerk)
    used.refresh_from_db()
    assert used.status == status
    moves = list(used.status_changes.values_list("old_status", "new_status"))[-2:]
    if status == S.LAPSED:
        assert moves == [("used", "approved"), ("approved", "lapsed")]
        with at(day), pytest.raises(ValidationError):
            services.use_reservation(reservation=used, by=clerk)
    else:
        assert moves[-1] == ("used", "approved")


def test_an_application_without_a_reservation_changes_none(clerk):
    other = make_reservation(company=clerk.membership.company, status="approved")
    with at(BID_DATE):
        application = applications.save_draft(
            company=clerk.membership.company,
            menu=Application.Menu.ADVANCE_CONTRACT,
            by=clerk,
            work_values={"name": "別の工事"},
            application_values={},
            amounts={},
        )
        applications.withdraw_application(application=application, by=clerk)
    other.refresh_from_db()
    assert other.status == S.APPROVED
    assert not AuditEvent.objects.filter(action="reservation.returned").exists()


def test_a_failing_give_back_rolls_the_withdrawal_back(used, clerk, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the reservation could not be written")

    monkeypatch.setattr(services, "_transition", broken)
    with at(BID_DATE), pytest.raises(RuntimeError):
        applications.withdraw_application(application=used.application, by=clerk)
    assert Application.objects.get(pk=used.application_id).status == Application.Status.DRAFT


def test_the_table_gives_back_only_a_used_one_and_staff_approve_only_a_submitted_one(used):
    assert ALLOWED[S.USED] == {S.APPROVED}
    # A used (or given-back) reservation is never approved a second time by staff.
    with pytest.raises(services.TransitionError):
        services.approve_reservation(reservation=used, by=make_staff(), fee=1)
