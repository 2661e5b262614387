"""The Tasks queue's two troubles, defined once: a task left RUNNING by a worker that died
(abandoned), and a task due for minutes that no worker has taken (stalled). /readyz,
/metrics and the console's work queue read these; requeue_stuck_tasks recovers the first.

django-tasks-db marks a task RUNNING when a worker claims it and SUCCESSFUL or FAILED when it
ends; a worker killed in between (container stopped, machine lost) leaves the row RUNNING for
ever, and no worker takes it again — a mail that is never sent. Nothing of ours runs that
long: a mail attempt is bounded by the SMTP timeout (30 s, settings.MAILERS), so a task
RUNNING for STUCK_AFTER was abandoned. requeue_stuck_tasks hands it back as READY (the state
django.tasks documents as "ready to be executed again"); its worker_ids keep who claimed it.
Mail stays at least once: a worker that died after the server accepted the mail causes a
second copy, with the same Message-ID (esure/mail.py).
"""

import datetime
import logging

from django.db import transaction
from django.db.models import Q
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

logger = logging.getLogger(__name__)

STUCK_AFTER = datetime.timedelta(minutes=15)

# The worker (django-tasks-db's db_worker, which cannot write a heartbeat) polls every second
# and our tasks take seconds, so a task due this long ago and still waiting found no worker.
QUEUE_STALE_AFTER = datetime.timedelta(minutes=5)


def abandoned(now, older_than=STUCK_AFTER):
    """Tasks RUNNING since before now − older_than: their worker died."""
    return Q(status=TaskResultStatus.RUNNING, started_at__lt=now - older_than)


def stalled(now):
    """Tasks READY and due (from run_after, or from enqueued_at when run_after is unset, stored
    as the maximum date) since before now − QUEUE_STALE_AFTER: no worker is draining the queue.
    Retries waiting for their back-off are not due yet."""
    before = now - QUEUE_STALE_AFTER
    return Q(status=TaskResultStatus.READY) & (
        Q(run_after=get_date_max(), enqueued_at__lt=before) | Q(run_after__lt=before)
    )


def requeue_stuck_tasks(*, older_than=STUCK_AFTER, now=None):
    """Tasks RUNNING since before now − older_than become READY again; returns their ids."""
    now = now or timezone.now()
    with transaction.atomic():
        stuck = list(
            DBTaskResult.objects.select_for_update(skip_locked=True)
            .filter(abandoned(now, older_than))
            .values_list("id", flat=True)
        )
        DBTaskResult.objects.filter(id__in=stuck).update(
            status=TaskResultStatus.READY, started_at=None, run_after=now
        )
    for task_id in stuck:
        logger.warning("task %s was RUNNING for more than %s: queued again", task_id, older_than)
    return stuck
