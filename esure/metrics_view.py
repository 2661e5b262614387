"""GET /metrics: the Prometheus text of esure/metrics.py's counters, summed over every
gunicorn worker (multiprocess mode), and gauges read from the database at each scrape.
Only the ESURE_READYZ_ALLOW addresses (esure.clientip.internal_only, decision 0013)."""

import os

from django.db.models import Count
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from dsure.throttle import locks_in_force
from esure import health, queue
from esure.clientip import internal_only

TASK_STATUSES = ("READY", "RUNNING", "SUCCESSFUL", "FAILED")


class DatabaseCollector:
    """Gauges read from PostgreSQL at each scrape: the same answer on every node."""

    def collect(self):
        by_status = dict(
            DBTaskResult.objects.values_list("status").annotate(n=Count("id")).order_by()
        )
        tasks = GaugeMetricFamily(
            "esure_tasks", "Rows of the Tasks queue by status (READY = waiting).", labels=["status"]
        )
        for status in TASK_STATUSES:
            tasks.add_metric([status], by_status.get(status, 0))
        yield tasks
        now = timezone.now()
        oldest = health.oldest_due_task(now)
        yield GaugeMetricFamily(
            "esure_tasks_oldest_due_seconds",
            "Age of the oldest task that is due and still waiting (0: none): the queue is "
            "not being drained when it keeps growing.",
            value=(now - oldest).total_seconds() if oldest else 0,
        )
        stuck = DBTaskResult.objects.filter(queue.abandoned(now)).count()
        yield GaugeMetricFamily(
            "esure_tasks_stuck",
            "Tasks RUNNING for longer than any of ours takes: a worker died "
            "(requeue_stuck_tasks hands them back).",
            value=stuck,
        )
        yield GaugeMetricFamily(
            "esure_dsure_locked_numbers",
            "保証契約番号 locked now by 100 counted wrong keys (staff may clear them).",
            value=len(locks_in_force()),
        )
        ready = GaugeMetricFamily(
            "esure_ready",
            "/readyz's checks from this node, run at the scrape: 1 ok, 0 failed or skipped "
            "(storage 0: documents cannot be stored, so nothing can be concluded).",
            labels=["check"],
        )
        for name, result in health.run_checks().items():
            ready.add_metric([name], 1 if result == health.OK else 0)
        yield ready


def exposition():
    """The text Prometheus reads: every worker's counters (multiprocess) or this process's,
    and the database gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
        counters = generate_latest(registry)
    else:
        counters = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    return counters + generate_latest(database)


@internal_only
@require_safe
def metrics(request):
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
