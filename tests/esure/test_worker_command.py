"""`manage.py worker` (esure/management/commands/worker.py, decision 0046): django-tasks-db's
db_worker whose start-up checks leave the URL configuration's out — so a worker never
imports the views (~19 MB) — and run every other check, the eシール's among them; it runs
without lxml (decision 0049, ~4 MB; tests/certificates/test_seal.py signs without it)."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.checks import Tags
from django.core.checks.registry import registry
from django.core.management import get_commands, load_command_class
from django.core.management.base import SystemCheckError
from django_tasks_db.management.commands import db_worker


@pytest.fixture
def ran():
    """Two checks registered for the test, one tagged "urls": the names of those that ran."""
    names = []

    def url_check(app_configs=None, **kwargs):
        names.append("urls")
        return []

    def other_check(app_configs=None, **kwargs):
        names.append("other")
        return []

    registry.register(url_check, Tags.urls)
    registry.register(other_check, Tags.models)
    yield names
    registry.registered_checks -= {url_check, other_check}


def worker():
    assert get_commands()["worker"] == "esure"
    command = load_command_class("esure", "worker")
    assert isinstance(command, db_worker.Command)  # the same options and loop
    return command


def test_the_worker_runs_every_check_but_the_url_configuration_s(ran):
    worker().check()
    assert ran == ["other"]
    # The registry is as it was: `check` and the other commands run the URL checks.
    ran.clear()
    load_command_class("django_tasks_db", "db_worker").check()
    assert sorted(ran) == ["other", "urls"]


def test_a_worker_without_its_seal_refuses_to_start(settings):
    settings.ESURE_SEAL_P12 = "/nonexistent/seal.p12"
    with pytest.raises(SystemCheckError, match=r"certificates\.E002"):
        worker().check()


CHECKS_OF = """
import json, sys
import django
django.setup()
from django.core.management import load_command_class
load_command_class({app!r}, {command!r}).check()
print(json.dumps("esure.urls" in sys.modules))
"""


def urlconf_imported_by_the_checks_of(app, command):
    # A fresh interpreter (the suite's has imported every view); no connection is opened.
    result = subprocess.run(  # noqa: S603 — our own interpreter, fixed code
        [sys.executable, "-c", CHECKS_OF.format(app=app, command=command)],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "esure.settings"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_worker_s_checks_do_not_import_the_views():
    assert urlconf_imported_by_the_checks_of("django_tasks_db", "db_worker") is True
    assert urlconf_imported_by_the_checks_of("esure", "worker") is False


def test_the_worker_runs_without_lxml_and_leaves_it_importable(monkeypatch):
    monkeypatch.delitem(sys.modules, "lxml", raising=False)  # put back after the test
    seen = []

    def handle(self, *args, **options):  # the task loop
        seen.append(sys.modules.get("lxml", "absent"))

    monkeypatch.setattr(db_worker.Command, "handle", handle)
    options = {"force_color": False, "no_color": False, "skip_checks": True}
    worker().execute(**options)
    assert seen == [None]  # `import lxml` raises ImportError while the worker runs
    assert "lxml" not in sys.modules  # and imports again after it
    load_command_class("django_tasks_db", "db_worker").execute(**options)
    assert seen == [None, "absent"]
