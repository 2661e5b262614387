"""Durable mail: queued in the deciding transaction, sent after commit, retried with
back-off on transient failures, failed for good (visible to staff) after the last try."""

import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from esure import mail as esure_mail


def test_queued_mail_leaves_only_after_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        esure_mail.send_templated_mail(
            "emails/key_reissued",
            {"guarantee": mock.MagicMock(number_display="08-1-0000001-8")},
            ["a@example.jp"],
        )
        assert mail.outbox == []
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1


def test_a_rolled_back_transaction_sends_nothing(db, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        esure_mail.send_templated_mail(
            "emails/key_reissued",
            {"guarantee": mock.MagicMock(number_display="08-1-0000001-8")},
            ["a@example.jp"],
        )
        raise RuntimeError("the conclusion failed")
    assert mail.outbox == []


def test_a_transient_failure_queues_the_next_attempt_with_back_off(db):
    task = esure_mail.deliver_mail
    with (
        mock.patch.object(
            esure_mail.EmailMessage, "send", side_effect=smtplib.SMTPServerDisconnected
        ),
        mock.patch("esure.mail.deliver_mail") as patched,
    ):
        result = task.call(subject="件名", body="本文", recipients=["a@example.jp"], attempt=2)
    assert result == "retry scheduled"
    using = patched.using
    run_after = using.call_args.kwargs["run_after"]
    queued = using.return_value.enqueue.call_args.kwargs
    assert queued["attempt"] == 3
    assert queued["body"] == "本文"
    # attempt 2 failed: the third waits 4 minutes (1, 4, 16, 64)
    delay = (run_after - timezone.now()).total_seconds()
    assert 3 * 60 < delay <= 4 * 60


def test_the_last_attempt_fails_for_good(db):
    task = esure_mail.deliver_mail
    with (
        mock.patch.object(
            esure_mail.EmailMessage, "send", side_effect=smtplib.SMTPServerDisconnected
        ),
        mock.patch("esure.mail.deliver_mail") as patched,
        pytest.raises(smtplib.SMTPServerDisconnected),
    ):
        task.call(
            subject="件名",
            body="本文",
            recipients=["a@example.jp"],
            attempt=esure_mail.MAX_ATTEMPTS,
        )
    patched.using.assert_not_called()


def test_the_database_backend_writes_the_row_in_the_transaction(db):
    backend = DatabaseBackend("default", {})
    with transaction.atomic():
        backend.enqueue(
            esure_mail.deliver_mail,
            (),
            {"subject": "件名", "body": "本文", "recipients": ["a@example.jp"]},
        )
        assert DBTaskResult.objects.filter(task_path="esure.mail.deliver_mail").count() == 1
    assert mail.outbox == []  # nothing is sent until a worker runs it
