"""Structured logs (docs/deployment.md, Logs): with LOG_FORMAT=json (the default when DEBUG
is off) every record is one line of JSON; the worker's lines about a mail name the task and
the Message-ID, never the mail's body, its recipients or a 認証キー."""

import datetime
import io
import json
import logging
import os
import socket
import subprocess
import sys

import pytest
from django.conf import settings
from django.core import mail
from django_tasks_db.models import DBTaskResult

from certificates import services as registry
from esure import mail as esure_mail
from esure.logging import JsonFormatter
from tests.conftest import make_concluded, run_db_worker


def test_a_record_with_an_exception_is_one_line_of_json():
    try:
        raise ValueError("壊れた\n二行目")
    except ValueError:
        record = logging.LogRecord(
            "esure.example", logging.ERROR, __file__, 1, "締結 %s 件に失敗", (2,), sys.exc_info()
        )

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert set(entry) == {"time", "level", "logger", "message", "exception"}
    assert (entry["level"], entry["logger"]) == ("ERROR", "esure.example")
    assert entry["message"] == "締結 2 件に失敗"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert entry["exception"].endswith("ValueError: 壊れた\n二行目")
    at = datetime.datetime.fromisoformat(entry["time"])
    assert at.utcoffset() == datetime.timedelta(0)
    created = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
    assert abs(at - created) < datetime.timedelta(milliseconds=1)


def test_a_record_without_an_exception_has_no_exception_field():
    record = logging.LogRecord("django.request", logging.WARNING, "", 1, "Not Found", (), None)
    record.status_code = 404

    entry = json.loads(JsonFormatter().format(record))

    assert entry["status"] == 404 and "exception" not in entry


# --- The settings choose the format ---------------------------------------------------------

LOG_ONE_ERROR = """
import django, logging
django.setup()
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("esure.probe").exception("probe %s", "ok")
"""


def log_in_a_fresh_process(**env):
    """Configure Django from esure.settings in a new interpreter, log one error; its stderr."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ESURE_", "DJANGO_", "DEBUG", "LOG_"))
    }
    environment |= {
        "DJANGO_SETTINGS_MODULE": "esure.settings",
        "ESURE_ENV_FILE": "",
        "SECRET_KEY": "a-secret-key-for-this-test-only-0123456789",
        "ESURE_AUTH_KEY_SECRET": "an-auth-key-secret-for-this-test-only-0123456789",
        **env,
    }
    return subprocess.run(  # noqa: S603 — our own interpreter, fixed arguments
        [sys.executable, "-c", LOG_ONE_ERROR],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("env", [{"DEBUG": "false"}, {"LOG_FORMAT": "json", "DEBUG": "true"}])
def test_json_lines(env):
    result = log_in_a_fresh_process(**env)

    [line] = result.stderr.splitlines()
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "ERROR",
        "esure.probe",
        "probe ok",
    )
    assert "ZeroDivisionError" in entry["exception"]


@pytest.mark.parametrize("env", [{"DEBUG": "true"}, {"LOG_FORMAT": "plain", "DEBUG": "false"}])
def test_plain_lines(env):
    result = log_in_a_fresh_process(**env)

    first, *rest = result.stderr.splitlines()
    assert first.endswith(" ERROR esure.probe probe ok")
    assert rest[0] == "Traceback (most recent call last):"


def test_an_unknown_format_is_refused():
    result = log_in_a_fresh_process(LOG_FORMAT="xml", DEBUG="false")

    assert result.returncode != 0
    assert "LOG_FORMAT must be json or plain" in result.stderr


# --- What the worker logs about a mail ------------------------------------------------------


@pytest.fixture
def json_log():
    """Every record of every logger, at DEBUG, as the production handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def smtp_down(settings):
    """Mail goes to an SMTP port where nothing listens: every attempt fails."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    return settings


def key_forms(key):
    plain = key.replace("-", "")
    return {key, plain, key.lower(), plain.lower()}


def assert_only_json_lines(text):
    lines = text.splitlines()
    assert lines
    for line in lines:
        json.loads(line)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks")
def test_the_worker_logs_no_mail_body_and_no_key(clerk, tsukumi, json_log, smtp_down, time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 30, 1, 0, tzinfo=datetime.UTC), tick=False)
    [guarantee] = make_concluded(company=clerk.membership.company)
    [queued] = queued_mail_kwargs()  # the body is in the queue, for the worker
    body_lines = [line for line in queued["body"].splitlines() if len(line) > 8]
    assert body_lines

    run_db_worker()  # attempt 1: connection refused, a retry is queued
    smtp_down.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    time_machine.shift(datetime.timedelta(minutes=1))
    run_db_worker()  # attempt 2: sent

    assert len(mail.outbox) == 1
    text = json_log.getvalue()
    assert_only_json_lines(text)
    assert f"mail {queued['message_id']} attempt 1 failed (ConnectionRefusedError)" in text
    assert f"mail {queued['message_id']} sent (attempt 2)" in text
    assert "path=esure.mail.deliver_mail state=SUCCESSFUL" in text
    for line in body_lines:
        assert line not in text
    assert clerk.email not in text
    for form in key_forms(registry.current_key(guarantee)):
        assert form not in text


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks")
def test_a_mail_that_fails_for_good_logs_its_traceback_without_the_body(
    json_log, smtp_down, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 11, 30, 1, 0, tzinfo=datetime.UTC), tick=False)
    body = "本文の秘密の一行: 大分 花子 様 0972-82-1234"
    esure_mail.deliver_mail.enqueue(
        subject="件名", body=body, recipients=["hanako@example.jp"], attempt=5
    )

    run_db_worker()

    entries = [json.loads(line) for line in json_log.getvalue().splitlines()]
    failed = [e for e in entries if e["logger"] == "django.tasks" and e["level"] == "ERROR"]
    [entry] = failed
    assert "state=FAILED" in entry["message"]
    assert "ConnectionRefusedError" in entry["exception"]
    text = json_log.getvalue()
    assert "秘密" not in text and "hanako@example.jp" not in text
    assert "0972-82-1234" not in text


def queued_mail_kwargs():
    rows = DBTaskResult.objects.filter(task_path="esure.mail.deliver_mail")
    return [row.args_kwargs["kwargs"] for row in rows]
