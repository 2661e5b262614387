"""A crash between a conclusion's commit and its after-commit documents (decision 0033): the
guarantee stands with its number and its 保証証書, the お客様控え and 保証料計算書 are produced
on retry (the task's own, or the sweep `produce_missing_documents`) exactly once — never a
gap, never a second number, never a second original of a kind.

PostgreSQL, real commits, the production Tasks backend (a task row written in the
conclusion's transaction, run by the suite's db_worker loop).
"""

import datetime
import threading

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from applications import services
from applications.fees import expected_fee
from certificates import pdf, seal, tasks
from certificates import services as registry
from certificates.models import Document, Guarantee, NumberCounter
from certificates.numbering import make_number
from certificates.seal import SealError
from esure.choices import GuaranteeKind
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    NOW,
    WORK_DATES,
    at_once,
    make_application,
    make_fee_tables,
    make_staff,
    make_work,
    run_db_worker,
)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real commits and row locks"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("database_tasks", "media"),
]

TWO_KINDS = {GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT}
PRODUCE = "certificates.tasks.produce_documents"
ALL_KINDS = sorted(Document.Kind.values)


def conclude(company):
    make_fee_tables()
    work = make_work(company, **WORK_DATES)
    application = make_application(company=company, work=work, status="approved", items=TWO_KINDS)
    return services.record_fee_receipt(
        application=application,
        received_on=NOW.date(),
        amount=expected_fee(application, NOW.date()).due,
        method="transfer",
        by=make_staff(),
    )


def kinds_stored(guarantee):
    return sorted(
        Document.objects.filter(certificate__guarantee=guarantee, extends=None).values_list(
            "kind", flat=True
        )
    )


def assert_numbers_unchanged(guarantees):
    """Serial 1 of each kind, as concluded: the documents' retry took no number."""
    assert sorted(Guarantee.objects.values_list("number", flat=True)) == sorted(
        make_number(8, kind, 1) for kind in TWO_KINDS
    )
    assert sorted(g.number for g in guarantees) == sorted(
        Guarantee.objects.values_list("number", flat=True)
    )
    assert set(NumberCounter.objects.values_list("last_serial", flat=True)) == {1}


def stored_files(media):
    return sorted(p.name for p in media.rglob("*") if p.is_file())


def test_the_conclusion_commits_with_its_certificates_and_queues_the_rest(clerk, media):
    with time_machine.travel(NOW, tick=False):
        guarantees = conclude(clerk.membership.company)

    for guarantee in guarantees:
        assert kinds_stored(guarantee) == [Document.Kind.CERTIFICATE]
    queued = DBTaskResult.objects.filter(task_path=PRODUCE)
    assert [t.status for t in queued] == [TaskResultStatus.READY] * 2
    # The task carries the certificate's id, nothing else.
    assert sorted(t.args_kwargs["kwargs"]["certificate_id"] for t in queued) == sorted(
        g.certificates.get().pk for g in guarantees
    )

    run_db_worker()

    for guarantee in guarantees:
        assert kinds_stored(guarantee) == ALL_KINDS
    assert len(stored_files(media)) == 6
    assert_numbers_unchanged(guarantees)


def test_a_worker_that_died_leaves_documents_the_sweep_produces_once(clerk, media, capsys):
    with time_machine.travel(NOW, tick=False):
        guarantees = conclude(clerk.membership.company)
        # The worker claimed the tasks and died before storing anything.
        for result in DBTaskResult.objects.filter(task_path=PRODUCE):
            result.claim("worker-that-died")

    # Within the grace period the sweep leaves them to the queue.
    with time_machine.travel(NOW + datetime.timedelta(minutes=9), tick=False):
        call_command("produce_missing_documents")
    assert "versions completed: 0, failed: 0" in capsys.readouterr().out

    with time_machine.travel(NOW + datetime.timedelta(minutes=11), tick=False):
        call_command("produce_missing_documents")
    assert "versions completed: 2, failed: 0" in capsys.readouterr().out
    for guarantee in guarantees:
        assert kinds_stored(guarantee) == ALL_KINDS
    assert_numbers_unchanged(guarantees)

    # The abandoned tasks, queued again later, find the documents stored: nothing more.
    with time_machine.travel(NOW + datetime.timedelta(minutes=30), tick=False):
        call_command("requeue_stuck_tasks")
        run_db_worker()
    results = DBTaskResult.objects.filter(task_path=PRODUCE)
    assert {(r.status, r.return_value) for r in results} == {
        (TaskResultStatus.SUCCESSFUL, "already stored")
    }
    assert Document.objects.count() == 6 and len(stored_files(media)) == 6
    call_command("produce_missing_documents", "--minutes", "0")
    assert "versions completed: 0, failed: 0" in capsys.readouterr().out


def test_a_failing_seal_is_retried_with_back_off_and_the_retry_produces_them(
    clerk, media, monkeypatch
):
    with time_machine.travel(NOW, tick=False):
        guarantees = conclude(clerk.membership.company)

    def seal_down(data, **kwargs):
        raise SealError("signing failed: the TSA did not answer")

    monkeypatch.setattr(seal, "sign_pdf", seal_down)
    with time_machine.travel(NOW, tick=False):
        run_db_worker()
    for guarantee in guarantees:
        assert kinds_stored(guarantee) == [Document.Kind.CERTIFICATE]
    retries = DBTaskResult.objects.filter(task_path=PRODUCE, status=TaskResultStatus.READY)
    assert [r.args_kwargs["kwargs"]["attempt"] for r in retries] == [2, 2]
    assert {r.run_after for r in retries} == {NOW + datetime.timedelta(minutes=1)}
    assert stored_files(media) == sorted(
        f"{g.number}-v1-certificate.pdf" for g in guarantees
    )  # nothing half-stored

    monkeypatch.undo()
    with time_machine.travel(NOW + datetime.timedelta(minutes=2), tick=False):
        run_db_worker()
    for guarantee in guarantees:
        assert kinds_stored(guarantee) == ALL_KINDS
    assert_numbers_unchanged(guarantees)


def test_after_the_last_attempt_the_task_fails_and_the_sweep_reports_what_is_missing(
    clerk, monkeypatch, capsys
):
    with time_machine.travel(NOW, tick=False):
        [advance, contract] = conclude(clerk.membership.company)

    def broken(certificate, kinds=None):
        raise OSError("font file unreadable")

    monkeypatch.setattr(pdf, "render_issuance_documents", broken)
    certificate = advance.certificates.get()
    with pytest.raises(OSError):
        tasks.produce_documents.func(certificate_id=certificate.pk, attempt=tasks.MAX_ATTEMPTS)
    with (
        time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False),
        pytest.raises(Exception, match="documents still missing for certificates"),
    ):
        call_command("produce_missing_documents")

    monkeypatch.undo()
    with time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False):
        call_command("produce_missing_documents")
    assert "versions completed: 2, failed: 0" in capsys.readouterr().out
    assert kinds_stored(advance) == kinds_stored(contract) == ALL_KINDS


def test_two_producers_at_once_store_one_original_of_each_kind(clerk, media, monkeypatch):
    with time_machine.travel(NOW, tick=False):
        [guarantee, _] = conclude(clerk.membership.company)
    certificate = guarantee.certificates.get()
    # Both render before either stores: the unique original (document_unique) decides.
    rendered = threading.Barrier(2)
    real = pdf.render_issuance_documents

    def render_together(certificate, kinds=None):
        documents = real(certificate, kinds)
        rendered.wait(timeout=60)
        return documents

    monkeypatch.setattr(pdf, "render_issuance_documents", render_together)

    def producer():
        return registry.produce_documents(certificate=certificate)

    results = at_once(producer, producer)

    assert all(kind == "ok" for kind, _ in results), results
    stored = sorted(kind for _, kinds in results for kind in kinds)
    assert stored == [Document.Kind.CUSTOMER_COPY, Document.Kind.FEE_STATEMENT]
    assert kinds_stored(guarantee) == ALL_KINDS
    # The loser's files were deleted: the store holds the originals only.
    names = set(Document.objects.values_list("file", flat=True))
    assert {p.name for p in media.rglob("*") if p.is_file()} == {
        n.rsplit("/", 1)[-1] for n in names
    }
