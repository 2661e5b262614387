"""/healthz and /readyz: what a load balancer sees, for the happy path and each failing check."""

import datetime

import pytest
from django.db import OperationalError
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from esure import health

ALL_CHECKS = {"database", "migrations", "cache", "storage", "tasks"}


def ready(client):
    response = client.get("/readyz")
    body = response.json()
    assert set(body["checks"]) == ALL_CHECKS
    return response.status_code, body


# /healthz ----------------------------------------------------------------------------------


def test_healthz_answers_ok_without_touching_the_database(client):
    # No `db` fixture: any query would raise "Database access not allowed".
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "Set-Cookie" not in response.headers  # no session, no CSRF cookie


def test_healthz_answers_head_and_refuses_post(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


# /readyz -----------------------------------------------------------------------------------


def test_readyz_is_ready_on_a_migrated_database(client, db, settings):
    status, body = ready(client)
    assert status == 200
    assert body == {"status": "ok", "checks": dict.fromkeys(ALL_CHECKS, "ok")}
    # The storage probe cleans up after itself.
    leftovers = list((settings.MEDIA_ROOT / "readyz").glob("*"))
    assert leftovers == []


def test_readyz_is_never_cached(client, db):
    assert "no-store" in client.get("/readyz")["Cache-Control"]


class _DownConnection:
    """Stands in for django.db.connection when the database server is gone."""

    def cursor(self):
        raise OperationalError("connection refused")


def test_database_down_fails_and_skips_what_needs_it(client, db, monkeypatch):
    monkeypatch.setattr(health, "connection", _DownConnection())
    status, body = ready(client)
    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"] == {
        "database": "fail",
        "migrations": "skipped",
        "cache": "skipped",
        "storage": "ok",
        "tasks": "skipped",
    }
    # The reason is for the log, not for the public body.
    assert "refused" not in str(body)


def test_unapplied_migrations_fail(client, db, monkeypatch):
    monkeypatch.setattr(
        MigrationExecutor, "migration_plan", lambda self, targets: [(object(), False)]
    )
    status, body = ready(client)
    assert status == 503
    assert body["checks"]["migrations"] == "fail"
    assert body["checks"]["database"] == "ok"


def test_a_missing_cache_table_fails(client, db):
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "no_such_cache_table",
            }
        }
    ):
        status, body = ready(client)
    assert status == 503
    assert body["checks"]["cache"] == "fail"


def test_unwritable_storage_fails(client, db, settings, tmp_path):
    # A media root whose parent is a file: no directory can be made there (even as root).
    (tmp_path / "not-a-directory").write_text("")
    settings.MEDIA_ROOT = tmp_path / "not-a-directory" / "media"
    status, body = ready(client)
    assert status == 503
    assert body["checks"]["storage"] == "fail"


# The Tasks queue: ready while it is being drained ------------------------------------------


def _task(*, status="READY", enqueued_minutes_ago=0, run_after=None):
    result = DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="esure.mail.deliver_mail",
        backend_name="default",
        run_after=run_after or get_date_max(),
    )
    # enqueued_at is auto_now_add: set the past afterwards.
    enqueued_at = timezone.now() - datetime.timedelta(minutes=enqueued_minutes_ago)
    DBTaskResult.objects.filter(pk=result.pk).update(enqueued_at=enqueued_at)
    return result


def _minutes_from_now(minutes):
    return timezone.now() + datetime.timedelta(minutes=minutes)


def test_a_task_waiting_past_the_limit_means_no_worker(client, db):
    _task(enqueued_minutes_ago=6)
    status, body = ready(client)
    assert status == 503
    assert body["checks"]["tasks"] == "fail"


def test_a_retry_whose_time_passed_long_ago_means_no_worker(client, db):
    _task(enqueued_minutes_ago=60, run_after=_minutes_from_now(-10))
    assert ready(client)[1]["checks"]["tasks"] == "fail"


@pytest.mark.parametrize(
    "task",
    [
        {"enqueued_minutes_ago": 1},  # just queued: the worker has time
        {"enqueued_minutes_ago": 60, "run_after": _minutes_from_now(30)},  # a retry's back-off
        {"enqueued_minutes_ago": 60, "status": "SUCCESSFUL"},  # done long ago
        {"enqueued_minutes_ago": 60, "status": "FAILED"},  # given up: for staff, not for the LB
        {"enqueued_minutes_ago": 60, "status": "RUNNING"},  # being worked on
    ],
    ids=["fresh", "backing-off", "successful", "failed", "running"],
)
def test_a_drained_queue_is_ready(client, db, task):
    _task(**task)
    status, body = ready(client)
    assert body["checks"]["tasks"] == "ok"
    assert status == 200
