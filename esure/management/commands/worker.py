"""`manage.py worker`: django-tasks-db's `db_worker` — the same options, the same loop —
whose start-up system checks leave the URL configuration's out (decision 0046).

Django's URL checks import the URLconf, hence every view and what the views import (allauth's
MFA with fido2, django-ninja and pydantic, jinja2): ~19 MB kept by a process whose tasks (the
mail, a conclusion's after-commit documents, the webhooks) never serve a page or reverse a
URL — a tenth of a rendering worker (bench/README.md, "A rendering process's memory"). Every
other check runs: the eシール's among them, so a worker that would store unsigned documents in
production still refuses to start. The URL checks run in `migrate`, `check --deploy` and
every other command of a release.
"""

from django.core.checks import Tags
from django.core.checks.registry import registry
from django_tasks_db.management.commands import db_worker


class Command(db_worker.Command):
    help = "Runs the task worker: django-tasks-db's db_worker, without the URL checks."

    def check(self, *args, **kwargs):
        registered = registry.registered_checks
        registry.registered_checks = {c for c in registered if Tags.urls not in c.tags}
        try:
            return super().check(*args, **kwargs)
        finally:
            registry.registered_checks = registered
