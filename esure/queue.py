"""The Tasks queue's one recovery: a task left RUNNING by a worker that died.

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
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

STUCK_AFTER = datetime.timedelta(minutes=15)


def requeue_stuck_tasks(*, older_than=STUCK_AFTER, now=None):
    """Tasks RUNNING since before now − older_than become READY again; returns their ids."""
    now = now or timezone.now()
    with transaction.atomic():
        stuck = list(
            DBTaskResult.objects.select_for_update(skip_locked=True)
            .filter(status=TaskResultStatus.RUNNING, started_at__lt=now - older_than)
            .values_list("id", flat=True)
        )
        DBTaskResult.objects.filter(id__in=stuck).update(
            status=TaskResultStatus.READY, started_at=None, run_after=now
        )
    for task_id in stuck:
        logger.warning("task %s was RUNNING for more than %s: queued again", task_id, older_than)
    return stuck
