"""`manage.py worker`: django-tasks-db's `db_worker` — the same options, the same loop —
whose start-up system checks leave the URL configuration's out (decision 0046).

Django's URL checks import the URLconf, hence every view and what the views import (allauth's
MFA with fido2, django-ninja and pydantic, jinja2): ~19 MB kept by a process whose tasks (the
mail, a conclusion's after-commit documents, the webhooks) never serve a page or reverse a
URL — a tenth of a rendering worker (bench/README.md, "A rendering process's memory"). Every
other check runs: the eシール's among them, so a worker that would store unsigned documents in
production still refuses to start. The URL checks run in `migrate`, `check --deploy` and
every other command of a release.

A worker also runs without lxml (decision 0049): nothing its tasks do needs it, yet the first
render and the first signature would each load it (~4 MB of a process, its C library
included) — fontTools' SVG-table subsetter, imported with WeasyPrint, for colour glyphs the
IPAex fonts do not have; pyHanko's XMP metadata, on every signature, which it writes only
for a PDF that already has XMP or is PDF 2.0 (esure's are PDF 1.7 without) and otherwise
leaves alone when lxml cannot be imported.

Its admin imports no app's admin.py (decision 0050): decided before django.setup(), so not
here — manage.py sets ESURE_TASK_WORKER for `worker` and the settings give the process
Django's SimpleAdminConfig.
"""

import contextlib
import sys

from django.core.checks import Tags
from django.core.checks.registry import registry
from django_tasks_db.management.commands import db_worker


@contextlib.contextmanager
def without_lxml():
    """lxml unimportable meanwhile (None in sys.modules: `import lxml` raises ImportError,
    which fontTools and pyHanko expect), unless the process has already imported it."""
    keep_out = "lxml" not in sys.modules
    if keep_out:
        sys.modules["lxml"] = None
    try:
        yield
    finally:
        if keep_out and sys.modules.get("lxml", ...) is None:
            del sys.modules["lxml"]


class Command(db_worker.Command):
    help = "Runs the task worker: django-tasks-db's db_worker, without the URL checks or lxml."

    def execute(self, *args, **options):
        with without_lxml():
            return super().execute(*args, **options)

    def check(self, *args, **kwargs):
        registered = registry.registered_checks
        registry.registered_checks = {c for c in registered if Tags.urls not in c.tags}
        try:
            return super().check(*args, **kwargs)
        finally:
            registry.registered_checks = registered
