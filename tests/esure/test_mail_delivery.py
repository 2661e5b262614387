"""Durable mail: queued in the deciding transaction, sent after commit, retried with
back-off on transient failures, failed for good (visible to staff) after the last try."""

import logging
import smtplib
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from applications import notifications
from esure import mail as esure_mail
from tests.conftest import make_application, run_db_worker


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


def test_a_line_break_in_a_name_cannot_break_the_subject(db, django_capture_on_commit_callbacks):
    """A CR/LF typed into a work or company name: the subject is one line and the mail goes
    out (a line break in a header would make Django refuse to build the message)."""
    with django_capture_on_commit_callbacks(execute=True):
        esure_mail.send_templated_mail(
            "emails/key_reissued",
            {"guarantee": SimpleNamespace(number_display="08-1\r\nBcc: evil@example.jp\n")},
            ["a@example.jp"],
        )

    [message] = mail.outbox
    assert message.subject == "[esure] 認証キー再発行のお知らせ（08-1 Bcc: evil@example.jp ）"
    assert message.message()["Bcc"] is None
    assert message.recipients() == ["a@example.jp"]


def test_a_work_name_with_a_line_break_still_reaches_the_clerk(
    clerk, tsukumi, django_capture_on_commit_callbacks
):
    application = make_application(company=clerk.membership.company)
    application.work.name = "市道堅徳線\r\n道路改良工事"

    with django_capture_on_commit_callbacks(execute=True):
        notifications.application_returned(application, "工期の誤り")

    [message] = mail.outbox
    assert message.subject == "[esure] お申込みが差し戻されました（市道堅徳線 道路改良工事）"
    assert message.to == [clerk.email]


@pytest.mark.django_db(transaction=True)
def test_a_mail_that_cannot_be_built_is_a_failed_task_never_a_silent_drop(database_tasks, caplog):
    # e.g. a row queued before subjects were made one line
    with transaction.atomic():
        esure_mail.deliver_mail.enqueue(
            subject="件名\r\nBcc: evil@example.jp",
            body="本文",
            recipients=["a@example.jp"],
            message_id="<probe@esure.invalid>",
        )

    with caplog.at_level(logging.ERROR, logger="esure.mail"):
        run_db_worker()

    [row] = DBTaskResult.objects.all()
    assert row.status == TaskResultStatus.FAILED  # admin → Tasks shows it to staff
    assert mail.outbox == []
    assert "mail <probe@esure.invalid> cannot be built (ValueError)" in caplog.text
