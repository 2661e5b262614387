"""Health endpoints for load balancers and orchestrators (docs/deployment.md).

- /healthz: the process answers. Touches nothing else, so a slow database never makes an
  orchestrator restart healthy web processes.
- /readyz: this instance can do its work — database reachable, migrations applied, the cache
  table present, file storage writable, and the Tasks queue being drained. 200 or 503 with a
  small JSON body naming each check; the reason of a failure goes to the log, not to the
  (public) body.

/healthz is public; /readyz answers only the addresses in ESURE_READYZ_ALLOW (loopback and
private ranges by default), others get 403 before any check runs (docs/decisions/0013). Both
are GET/HEAD only and never redirected to https (SECURE_REDIRECT_EXEMPT).
"""

import logging
import uuid

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Min
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult, get_date_max

from esure import queue
from esure.clientip import internal_only

logger = logging.getLogger(__name__)

OK, FAIL, SKIPPED = "ok", "fail", "skipped"


class NotReady(Exception):
    """A check ran and found the instance not ready (as opposed to an error while checking)."""


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_migrations():
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise NotReady(f"{len(plan)} migrations not applied, first {plan[0][0]}")


def check_cache():
    # The database cache table is made by `createcachetable`, not by a migration; without it
    # every login fails (allauth's rate limits live in the cache).
    cache.get("esure:readyz")


def check_storage():
    name = default_storage.save(f"readyz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    default_storage.delete(name)


def oldest_due_task(now):
    """Since when the longest-waiting task that is due has waited (None: nothing waits).

    A task is due from run_after, or from enqueued_at when it has none (stored as the
    maximum date). Retries waiting for their back-off are not due yet and do not count."""
    waiting = DBTaskResult.objects.filter(status="READY")
    since = [
        waiting.filter(run_after=get_date_max()).aggregate(at=Min("enqueued_at"))["at"],
        waiting.filter(run_after__lte=now).aggregate(at=Min("run_after"))["at"],
    ]
    since = [moment for moment in since if moment is not None]
    return min(since) if since else None


def check_tasks():
    # "The worker is alive" is read from the queue (esure.queue.stalled).
    if DBTaskResult.objects.filter(queue.stalled(timezone.now())).exists():
        raise NotReady(f"tasks due for more than {queue.QUEUE_STALE_AFTER} are still waiting")


# (name, check, needs the database): checks that need it are skipped when it is down, so a
# dead database costs one connection attempt, not four.
CHECKS = [
    ("database", check_database, False),
    ("migrations", check_migrations, True),
    ("cache", check_cache, True),
    ("storage", check_storage, False),
    ("tasks", check_tasks, True),
]


def _run(name, check):
    try:
        check()
    except NotReady as reason:
        logger.warning("readiness check %s: %s", name, reason)
        return FAIL
    except Exception:
        logger.exception("readiness check %s failed", name)
        return FAIL
    return OK


@require_safe
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def run_checks():
    """{check name: ok / fail / skipped}: what /readyz answers and /metrics shows."""
    results = {}
    for name, check, needs_database in CHECKS:
        if needs_database and results["database"] != OK:
            results[name] = SKIPPED
        else:
            results[name] = _run(name, check)
    return results


@internal_only
@require_safe
def readyz(request):
    results = run_checks()
    ready = all(result == OK for result in results.values())
    return JsonResponse(
        {"status": OK if ready else FAIL, "checks": results}, status=200 if ready else 503
    )
