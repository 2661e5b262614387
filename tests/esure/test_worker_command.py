"""`manage.py worker` (esure/management/commands/worker.py, decision 0046): django-tasks-db's
db_worker whose start-up checks leave the URL configuration's out — so a worker never
imports the views (~19 MB) — and run every other check, the eシール's among them; it runs
without lxml (decision 0049, ~4 MB; tests/certificates/test_seal.py signs without it), and
its admin imports no app's admin.py (decision 0050, ~2.3 MB: manage.py sets
ESURE_TASK_WORKER, the settings give the worker Django's SimpleAdminConfig)."""

import json
import os
import subprocess
import sys
import urllib.parse

import pytest
from django.conf import settings
from django.core.checks import Tags
from django.core.checks.registry import registry
from django.core.management import get_commands, load_command_class
from django.core.management.base import SystemCheckError
from django.db import connection
from django_tasks_db.management.commands import db_worker

from applications import services
from applications.fees import expected_fee
from certificates.models import Document
from certificates.services import AFTER_COMMIT_KINDS
from certificates.verification import Outcome, check_pdf
from tests.conftest import (
    NOW,
    WORK_DATES,
    make_application,
    make_fee_tables,
    make_staff,
    make_work,
)


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


# Every app's admin.py, as the admin's autodiscovery imports them in a web process.
APP_ADMINS = {f"{app}.admin" for app in ("accounts", "applications", "certificates", "claims")}


ADMIN_OF_A_PROCESS = """
import json, sys
import django
django.setup()
from django.contrib import admin
from django.core import checks
print(json.dumps({
    "site": admin.site.__class__.__name__,  # the class behind the lazy default site
    "registered": sorted(model._meta.label for model in admin.site._registry),
    "imported": sorted(name for name in sys.modules if name.endswith(".admin")),
    "checks": [str(m) for m in checks.run_checks(tags=[checks.Tags.admin])],
}))
"""


def admin_of_a_process(**environ):
    """The admin of a fresh interpreter after django.setup(), with `environ` added."""
    result = subprocess.run(  # noqa: S603 — our own interpreter, fixed code
        [sys.executable, "-c", ADMIN_OF_A_PROCESS],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "esure.settings", **environ},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_only_the_worker_s_settings_leave_the_apps_admins_out():
    web, worker = admin_of_a_process(), admin_of_a_process(ESURE_TASK_WORKER="true")
    assert "certificates.Guarantee" in web["registered"]
    assert set(web["imported"]) >= APP_ADMINS
    # The worker's admin: esure's site, no app's ModelAdmin (the two third-party models
    # renamed in esure/apps.py are registered by their AppConfig, not by an admin.py).
    assert worker["site"] == web["site"] == "EsureAdminSite"
    assert set(worker["registered"]) == {"mfa.Authenticator", "django_tasks_database.DBTaskResult"}
    assert not APP_ADMINS & set(worker["imported"])
    assert worker["checks"] == web["checks"] == []  # the admin's own checks pass in both


MANAGE_PY_WORKER_THEN_MODULES = """
import json, runpy, sys
sys.argv = ["manage.py", "worker", "--batch"]
runpy.run_path("manage.py", run_name="__main__")
print(json.dumps(sorted(sys.modules)))
"""


def database_url_of_the_tests():
    """The suite's DATABASE_URL, pointed at the test database (for a process of its own)."""
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return url._replace(path="/" + connection.settings_dict["NAME"]).geturl()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("tsukumi", "database_tasks")
def test_manage_py_worker_signs_the_documents_with_no_app_s_admin_imported(media):
    # A conclusion committed, its documents' task queued (decision 0033) and not yet run.
    make_fee_tables()
    application = make_application(work=make_work(**WORK_DATES), status="approved")
    received_on = NOW.date()
    [guarantee] = services.record_fee_receipt(
        application=application,
        received_on=received_on,
        amount=expected_fee(application, received_on).due,
        method="transfer",
        by=make_staff(),
    )
    assert not Document.objects.filter(kind__in=AFTER_COMMIT_KINDS).exists()

    # `python manage.py worker --batch` (docker-compose.yml's command; --batch: every due task,
    # then exit), run as __main__ by runpy so that the process can list its modules after it.
    result = subprocess.run(  # noqa: S603 — our own interpreter and manage.py, fixed code
        [sys.executable, "-c", MANAGE_PY_WORKER_THEN_MODULES],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": database_url_of_the_tests(),
            "MEDIA_ROOT": str(media),
            "ESURE_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    imported = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert {"esure.admin", "weasyprint", "pyhanko"} <= imported  # the process did the work
    assert not APP_ADMINS & imported

    documents = Document.objects.filter(certificate__guarantee=guarantee)
    assert set(documents.values_list("kind", flat=True)) == set(Document.Kind)
    for document in documents.filter(kind__in=AFTER_COMMIT_KINDS):
        with document.file.open("rb") as f:
            verdict = check_pdf(f.read())
        assert verdict.outcome == Outcome.VALID, (document.kind, verdict)
        assert verdict.signer_is_seal
        assert verdict.timestamp_trusted
        assert verdict.long_term  # PAdES B-LT: certificates and CRLs in the DSS
