"""A worker dies while it runs a task: the row stays RUNNING and no worker would take it
again. requeue_stuck_tasks hands tasks RUNNING for more than 15 minutes back to the queue, and
the mail then leaves once (esure/queue.py, docs/operations.md)."""

import datetime
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from esure import mail as esure_mail
from esure.queue import STUCK_AFTER
from tests.conftest import run_db_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("database_tasks")]


def queue_a_mail():
    esure_mail.send_templated_mail(
        "emails/key_reissued",
        {"guarantee": mock.MagicMock(number_display="08-1-0000001-8")},
        ["clerk@acme.example.jp"],
    )
    return DBTaskResult.objects.get()


def claimed_by_a_worker_that_died():
    """The task as a worker leaves it when killed between claiming and finishing."""
    task = queue_a_mail()
    task.claim("worker-that-died")
    return task


@pytest.mark.parametrize(
    ("after", "requeued"),
    [
        (STUCK_AFTER - datetime.timedelta(seconds=1), False),
        (STUCK_AFTER, False),
        (STUCK_AFTER + datetime.timedelta(seconds=1), True),
    ],
)
def test_a_task_running_longer_than_15_minutes_is_queued_again(after, requeued, capsys):
    task = claimed_by_a_worker_that_died()

    with time_machine.travel(task.started_at + after, tick=False):
        call_command("requeue_stuck_tasks")

    task.refresh_from_db()
    expected = TaskResultStatus.READY if requeued else TaskResultStatus.RUNNING
    assert task.status == expected
    assert f"stuck tasks queued again: {int(requeued)}" in capsys.readouterr().out
    assert task.worker_ids == ["worker-that-died"]  # who claimed it stays on record


def test_the_requeued_mail_is_sent_once():
    task = claimed_by_a_worker_that_died()
    run_db_worker()
    assert mail.outbox == []  # RUNNING: no worker takes it

    with time_machine.travel(timezone.now() + STUCK_AFTER + datetime.timedelta(minutes=1)):
        call_command("requeue_stuck_tasks")
        run_db_worker()
        run_db_worker()

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["clerk@acme.example.jp"]
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert task.worker_ids[0] == "worker-that-died" and len(task.worker_ids) == 2


def test_finished_and_waiting_tasks_are_left_alone():
    waiting = queue_a_mail()
    run_db_worker()
    done = DBTaskResult.objects.get(pk=waiting.pk)
    assert done.status == TaskResultStatus.SUCCESSFUL

    with time_machine.travel(timezone.now() + datetime.timedelta(days=1)):
        call_command("requeue_stuck_tasks")

    done.refresh_from_db()
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert len(mail.outbox) == 1
