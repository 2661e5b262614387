"""When a conclusion's お客様控え and 保証料計算書 are due (decision 0052): at once by default;
with ESURE_DEFERRED_DOCUMENTS_FROM, a daytime conclusion's task waits until that time of its
day and the sweep leaves it alone until then (certificates.rules)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from certificates import rules
from certificates.models import Document
from tests.certificates.test_documents_on_request import conclude_before_the_worker
from tests.conftest import JST, run_db_worker

EVENING = datetime.time(20, 0)
GRACE = datetime.timedelta(minutes=10)


def at(day, hh, mm, ss=0):
    return datetime.datetime(2026, 11, day, hh, mm, ss, tzinfo=JST)


# --- documents_due: just under, at and just over the time of day ---------------------------


@pytest.mark.parametrize(
    "issued_at, due",
    [
        (at(30, 10, 0), at(30, 20, 0)),  # a daytime conclusion waits for the evening
        (at(30, 19, 59, 59), at(30, 20, 0)),  # one second before
        (at(30, 20, 0), None),  # at the time: at once
        (at(30, 20, 0, 1), None),  # after it: at once
        (at(30, 0, 0), at(30, 20, 0)),  # just after midnight: that day's evening
        (datetime.datetime(2026, 11, 30, 11, 0, tzinfo=datetime.UTC), None),  # 20:00 in Tokyo
        (datetime.datetime(2026, 11, 30, 10, 59, tzinfo=datetime.UTC), at(30, 20, 0)),
    ],
)
def test_documents_are_due_from_the_evening_of_the_conclusions_day(settings, issued_at, due):
    assert rules.documents_due(issued_at, EVENING) == due


def test_documents_are_due_at_once_without_the_setting():
    assert rules.documents_due(at(30, 10, 0), None) is None


# --- sweep_before: the sweep's bound, either side of the due time plus its grace --------------


@pytest.mark.parametrize(
    "now, bound",
    [
        (at(30, 10, 0), at(30, 0, 0)),  # today's are due tonight: only earlier days'
        (at(30, 20, 9, 59), at(30, 0, 0)),  # due at 20:00, grace not over
        (at(30, 20, 10), at(30, 20, 0)),  # grace over: everything issued before 20:00 too
        (at(30, 23, 0), at(30, 22, 50)),  # evening conclusions are due at once
        (at(30, 0, 5), at(29, 23, 55)),  # just after midnight: yesterday evening's, 10 min on
    ],
)
def test_the_sweep_leaves_a_version_to_its_task_until_it_is_overdue(now, bound):
    assert rules.sweep_before(now, EVENING, GRACE) == bound


def test_without_the_setting_the_sweep_bound_is_the_grace_ago():
    assert rules.sweep_before(at(30, 10, 0), None, GRACE) == at(30, 9, 50)


# --- The conclusion's task and the sweep, with the setting -----------------------------------


def document_task():
    return DBTaskResult.objects.get(task_path="certificates.tasks.produce_documents")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks", "media")
def test_a_daytime_conclusions_task_waits_for_the_evening(settings, frozen, clerk, tsukumi):
    settings.ESURE_DEFERRED_DOCUMENTS_FROM = EVENING
    guarantee = conclude_before_the_worker(clerk, tsukumi)  # NOW: 10:00 in Tokyo

    assert document_task().task.run_after == at(30, 20, 0)
    run_db_worker()
    call_command("produce_missing_documents", stdout=io.StringIO())
    assert guarantee.certificates.get().documents.count() == 1  # the 保証証書 only, all day

    frozen.move_to(at(30, 20, 0))
    run_db_worker()
    assert sorted(guarantee.certificates.get().documents.values_list("kind", flat=True)) == sorted(
        Document.Kind.values
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks", "media")
def test_an_evening_conclusions_task_is_due_at_once(settings, frozen, clerk, tsukumi):
    settings.ESURE_DEFERRED_DOCUMENTS_FROM = EVENING
    frozen.move_to(at(30, 20, 0))
    guarantee = conclude_before_the_worker(clerk, tsukumi)

    assert document_task().task.run_after is None
    run_db_worker()
    assert guarantee.certificates.get().documents.count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks", "media")
def test_the_sweep_makes_a_deferred_versions_documents_once_overdue(
    settings, frozen, clerk, tsukumi
):
    """A worker that never ran tonight: the sweep makes them after 20:10, not before."""
    settings.ESURE_DEFERRED_DOCUMENTS_FROM = EVENING
    guarantee = conclude_before_the_worker(clerk, tsukumi)
    certificate = guarantee.certificates.get()

    frozen.move_to(at(30, 20, 9, 59))
    call_command("produce_missing_documents", stdout=io.StringIO())
    assert certificate.documents.count() == 1

    frozen.move_to(at(30, 20, 10, 1))
    call_command("produce_missing_documents", stdout=io.StringIO())
    assert certificate.documents.count() == 3
