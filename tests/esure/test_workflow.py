"""The one status helper (esure.workflow, decision 0042): a forbidden move is refused with a
clear message and changes nothing; an allowed one locks the row, stamps the time and writes
the history row (old, new, by, at, note). Shown on the company workflow, the smallest one;
each app's own allowed and forbidden moves are tested with the app."""

import time

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as accounts
from accounts.models import Company, CompanyStatusChange
from esure.workflow import MSG_TRANSITION, StatusHistory, TransitionError, Workflow
from tests.conftest import at_once, make_company, make_staff

S = Company.Status
TABLE = {S.PENDING: {S.VERIFIED}, S.VERIFIED: {S.SUSPENDED}}
WORKFLOW = Workflow(table=TABLE, history=CompanyStatusChange, what="受注者")


def test_a_forbidden_move_names_both_statuses_and_changes_nothing(staff):
    company = make_company(status=S.PENDING)

    with transaction.atomic(), pytest.raises(TransitionError) as raised:
        WORKFLOW.move(company, to=S.SUSPENDED, by=staff)

    assert raised.value.messages == ["「確認待ち」の受注者を「利用停止」にすることはできません。"]
    assert raised.value.messages == [
        MSG_TRANSITION.format(old=S.PENDING.label, what="受注者", new=S.SUSPENDED.label)
    ]
    assert raised.value.code == "transition"
    company.refresh_from_db()
    assert company.status == S.PENDING
    assert not CompanyStatusChange.objects.filter(company=company).exists()


def test_a_final_status_allows_no_move(staff):
    company = make_company(status=S.SUSPENDED)  # no row in TABLE: final

    with transaction.atomic(), pytest.raises(TransitionError):
        WORKFLOW.move(company, to=S.VERIFIED, by=staff)


def test_an_app_may_word_the_refusal_its_own_way(staff):
    worded = Workflow(
        table=TABLE,
        history=CompanyStatusChange,
        message="この受注者はすでに{old}です。",
        code="already",
    )
    company = make_company(status=S.VERIFIED)

    with transaction.atomic(), pytest.raises(TransitionError) as raised:
        worded.move(company, to=S.VERIFIED, by=staff)

    assert raised.value.messages == ["この受注者はすでに確認済です。"]
    assert raised.value.code == "already"


def test_an_allowed_move_saves_the_status_and_writes_one_history_row(staff):
    company = make_company(status=S.PENDING)

    with transaction.atomic():
        locked, change = WORKFLOW.move(
            company, to=S.VERIFIED, by=staff, note="登記簿で確認", stamp=("verified_at",)
        )

    company.refresh_from_db()
    assert company.status == S.VERIFIED == locked.status
    [row] = CompanyStatusChange.objects.filter(company=company)
    assert row == change
    assert (row.old_status, row.new_status, row.by, row.note) == (
        S.PENDING,
        S.VERIFIED,
        staff,
        "登記簿で確認",
    )
    # One time for the move: the stamped field and the history row carry the same instant.
    assert company.verified_at == row.at
    assert abs(timezone.now() - row.at).total_seconds() < 60


def test_the_move_is_one_update_of_the_named_fields(staff):
    company = make_company(status=S.PENDING, name="元の商号")
    company.name = "画面で変えた商号"  # not named: the move must not write it

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        WORKFLOW.move(company, to=S.VERIFIED, by=staff, values={"verified_at": None})

    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    company.refresh_from_db()
    assert company.name == "元の商号"


def test_the_row_is_read_with_select_for_update(staff):
    company = make_company(status=S.PENDING)

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        WORKFLOW.move(company, to=S.VERIFIED, by=staff)

    [select] = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert "FOR UPDATE" in select


def test_the_status_the_row_has_now_decides_not_the_callers_copy(staff):
    company = make_company(status=S.PENDING)
    stale = Company.objects.get(pk=company.pk)
    with transaction.atomic():
        WORKFLOW.move(company, to=S.VERIFIED, by=staff)

    with transaction.atomic(), pytest.raises(TransitionError):
        WORKFLOW.move(stale, to=S.VERIFIED, by=staff)  # stale still says 確認待ち

    assert CompanyStatusChange.objects.filter(company=company).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_moves_at_once_the_lock_lets_one_through(monkeypatch):
    staff = make_staff()
    company = make_company(status=S.PENDING)
    check = Workflow.check

    def slow_check(self, subject, to):
        check(self, subject, to)
        time.sleep(0.3)  # hold the lock: the other move arrives while this one is in flight

    monkeypatch.setattr(Workflow, "check", slow_check)

    def verify():
        with transaction.atomic():
            return WORKFLOW.move(company, to=S.VERIFIED, by=staff)

    results = at_once(verify, verify)

    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    [error] = [value for kind, value in results if kind == "error"]
    assert isinstance(error, TransitionError)
    assert CompanyStatusChange.objects.filter(company=company).count() == 1


def test_a_history_row_reads_its_statuses_by_label(staff):
    company = make_company(status=S.PENDING)
    with transaction.atomic():
        _, change = WORKFLOW.move(company, to=S.VERIFIED, by=staff)

    assert change.get_old_status_display() == "確認待ち"
    assert change.get_new_status_display() == "確認済"
    assert CompanyStatusChange(new_status=S.VERIFIED).get_old_status_display() == "—"


def test_the_services_use_the_helper(staff):
    company = make_company(status=S.PENDING)

    accounts.verify_company(company=company, by=staff, note="確認")

    [row] = CompanyStatusChange.objects.filter(company=company)
    assert (row.old_status, row.new_status, row.note) == (S.PENDING, S.VERIFIED, "確認")


def _history_models():
    return sorted(
        (
            model
            for model in apps.get_models()
            if {"old_status", "new_status"} <= {field.name for field in model._meta.fields}
        ),
        key=lambda model: model._meta.label,
    )


def test_every_status_history_has_the_one_shape():
    found = _history_models()

    assert [model._meta.label for model in found] == [
        "accounts.CompanyStatusChange",
        "advances.PlanStatusChange",
        "advances.WithdrawalStatusChange",
        "applications.StatusChange",
        "certificates.SubmissionEvent",
        "claims.ClaimStatusChange",
        "reservations.ReservationStatusChange",
    ]
    for model in found:
        assert issubclass(model, StatusHistory), model
        assert model.statuses is not None, model
        names = [field.name for field in model._meta.fields]
        assert {"old_status", "new_status", "by", "at", "note"} <= set(names)
