"""The mail server fails: the mail stays queued, is retried with back-off, arrives once when
the server recovers, and fails for good — visibly — after the last attempt.

Nothing of ours is mocked: a real SMTP server (aiosmtpd, on 127.0.0.1) refuses with
"421 try later" or drops the connection, Django's SMTP backend talks to it, the mail is a
row of the production Tasks backend (django-tasks-db), and db_worker's own loop runs it.
Time is moved past each back-off (1, 4, 16, 64 minutes) with time-machine.
"""

import datetime
import email
import email.policy
import socket
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.db import transaction
from django.tasks import TaskResultStatus
from django.urls import reverse
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from esure import mail as esure_mail
from tests.conftest import run_db_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("database_tasks")]

T0 = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
RECIPIENT = "clerk@acme.example.jp"
MAIL = "emails/key_reissued"
CONTEXT = {
    "guarantee": {
        "number_display": "08-1-0000001-8",
        "get_kind_display": "前払金保証",
        "company": {"name": "ACME建設株式会社"},
        "work": {"name": "市道堅徳線道路改良工事"},
        "orderer": {"name": "津久見市"},
    },
    "detail_path": "/certificates/1/",
}
SUBJECT, BODY = esure_mail.render_mail(MAIL, CONTEXT)


class FlakySMTP:
    """An SMTP server's handler: refuses the first `refusals` mails at `stage` (RCPT or
    DATA) with 421, then accepts and keeps them. `drop` makes it drop the connection after
    storing a mail: at "DATA" before its 250 reply leaves, at "QUIT" when the client says
    goodbye."""

    def __init__(self):
        self.stage = "DATA"
        self.refusals = 0
        self.refused = 0
        self.drop = None
        self.received = []

    def _refuse(self, stage):
        if stage == self.stage and self.refusals > 0:
            self.refusals -= 1
            self.refused += 1
            return True
        return False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self._refuse("RCPT"):
            return "421 4.3.2 try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self._refuse("DATA"):
            return "421 4.3.2 try later"
        self.received.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        if self.drop == "DATA":
            server.transport.abort()
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        if self.drop == "QUIT":
            server.transport.abort()
        return "221 Bye"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1, and Django's SMTP backend pointed at it."""
    handler = FlakySMTP()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    yield handler
    controller.stop()


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def queue_the_mail():
    with transaction.atomic():
        esure_mail.send_templated_mail(MAIL, CONTEXT, [RECIPIENT])


def mail_rows():
    rows = DBTaskResult.objects.filter(task_path="esure.mail.deliver_mail")
    return sorted(rows, key=lambda row: row.args_kwargs["kwargs"].get("attempt", 1))


def waiting():
    """The mail's row that is still to run (READY), if any."""
    ready = [row for row in mail_rows() if row.status == TaskResultStatus.READY]
    assert len(ready) <= 1
    return ready[0] if ready else None


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_a_refused_mail_stays_queued_and_arrives_once(smtp, clock, stage):
    smtp.stage, smtp.refusals = stage, 2
    queue_the_mail()
    message_id = waiting().args_kwargs["kwargs"]["message_id"]

    run_db_worker()  # attempt 1: 421
    assert smtp.refused == 1 and smtp.received == []
    retry = waiting()
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert retry.args_kwargs["kwargs"]["message_id"] == message_id
    assert retry.run_after == T0 + datetime.timedelta(minutes=1)

    run_db_worker()  # not due yet: the worker leaves it alone
    assert smtp.refused == 1

    clock.shift(datetime.timedelta(minutes=1))
    run_db_worker()  # attempt 2: 421 again, the next one waits 4 minutes
    assert smtp.refused == 2 and smtp.received == []
    retry = waiting()
    assert retry.args_kwargs["kwargs"]["attempt"] == 3
    assert retry.run_after == T0 + datetime.timedelta(minutes=1 + 4)

    clock.shift(datetime.timedelta(minutes=4))
    run_db_worker()  # attempt 3: the server has recovered
    [message] = smtp.received
    assert message["Subject"] == SUBJECT
    assert message["To"] == RECIPIENT
    assert message["Message-ID"] == message_id
    assert message.get_content().replace("\r\n", "\n") == BODY
    assert waiting() is None
    assert [row.return_value for row in mail_rows()] == ["retry scheduled"] * 2 + ["sent"]

    # Nothing left to send it again, however often the worker runs.
    clock.shift(datetime.timedelta(days=1))
    run_db_worker()
    run_db_worker()
    assert len(smtp.received) == 1


def test_after_the_last_attempt_the_mail_is_failed_and_visible(smtp, clock, client, staff):
    smtp.refusals = 99
    queue_the_mail()

    for minutes in (1, 4, 16, 64):
        run_db_worker()
        assert waiting().run_after == datetime.datetime.now(datetime.UTC) + datetime.timedelta(
            minutes=minutes
        )
        clock.shift(datetime.timedelta(minutes=minutes))
    run_db_worker()  # attempt 5, the last

    assert smtp.refused == esure_mail.MAX_ATTEMPTS and smtp.received == []
    assert waiting() is None
    *retried, last = mail_rows()
    assert [row.status for row in retried] == [TaskResultStatus.SUCCESSFUL] * 4
    assert last.status == TaskResultStatus.FAILED
    assert last.args_kwargs["kwargs"]["attempt"] == esure_mail.MAX_ATTEMPTS
    assert last.exception_class_path == "smtplib.SMTPDataError"
    # Kept, with everything needed to send it by hand: subject, body, recipients.
    assert last.args_kwargs["kwargs"]["subject"] == SUBJECT
    assert last.args_kwargs["kwargs"]["recipients"] == [RECIPIENT]

    # Staff find it among the failed tasks in the admin.
    client.force_login(staff)
    changelist = reverse("admin:django_tasks_database_dbtaskresult_changelist")
    page = client.get(changelist, {"status__exact": TaskResultStatus.FAILED})
    assert page.status_code == 200
    assert [row.pk for row in page.context["cl"].result_list] == [last.pk]

    clock.shift(datetime.timedelta(days=1))
    run_db_worker()
    assert smtp.received == [] and smtp.refused == esure_mail.MAX_ATTEMPTS


def test_a_connection_dropped_at_quit_after_the_mail_was_taken_is_not_retried(smtp, clock):
    """The server took the mail (250) and the connection broke at QUIT: the mail is sent,
    and sending it again would be a duplicate."""
    smtp.drop = "QUIT"
    queue_the_mail()

    run_db_worker()

    assert len(smtp.received) == 1
    [row] = mail_rows()
    assert (row.status, row.return_value) == (TaskResultStatus.SUCCESSFUL, "sent")
    clock.shift(datetime.timedelta(days=1))
    run_db_worker()
    assert len(smtp.received) == 1


def test_a_reply_lost_after_the_data_is_retried_under_the_same_message_id(smtp, clock):
    """The one case SMTP cannot settle (RFC 1047): the server stored the mail, but its 250
    never reached us. Not knowing, esure retries rather than risk losing the mail; both
    copies carry the Message-ID given when the mail was queued, by which mail systems
    recognise them as one message."""
    smtp.drop = "DATA"
    queue_the_mail()

    run_db_worker()
    assert len(smtp.received) == 1
    assert waiting().args_kwargs["kwargs"]["attempt"] == 2

    smtp.drop = None
    clock.shift(datetime.timedelta(minutes=1))
    run_db_worker()

    first, second = smtp.received
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"] == mail_rows()[0].args_kwargs["kwargs"]["message_id"]
    assert waiting() is None


class WorkerKilled(BaseException):
    """The worker process ends (SIGKILL, out of memory) between two statements."""


def test_a_worker_that_dies_after_sending_leaves_no_second_copy(smtp, clock, monkeypatch):
    """The mail left, then the worker died before it recorded so: the row stays claimed
    (RUNNING), and no other worker takes a claimed row again."""

    def send_then_die(worker, db_task_result):
        result = db_task_result.task_result
        db_task_result.task.call(*result.args, **result.kwargs)
        raise WorkerKilled

    queue_the_mail()
    monkeypatch.setattr(Worker, "run_task", send_then_die)
    with pytest.raises(WorkerKilled):
        run_db_worker()
    monkeypatch.undo()

    assert len(smtp.received) == 1
    [row] = mail_rows()
    assert row.status == TaskResultStatus.RUNNING
    clock.shift(datetime.timedelta(days=1))
    run_db_worker()
    assert len(smtp.received) == 1
