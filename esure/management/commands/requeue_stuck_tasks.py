"""Queue again the tasks (mails) that a dead worker left RUNNING (esure/queue.py). Run it every
few minutes beside the workers (docs/operations.md, "Monitoring"); it is safe to run often and
from several hosts."""

import datetime

from django.core.management.base import BaseCommand

from esure.queue import STUCK_AFTER, requeue_stuck_tasks


class Command(BaseCommand):
    help = "Queues again tasks left RUNNING by a worker that died (older than 15 minutes)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes",
            type=int,
            default=int(STUCK_AFTER.total_seconds() // 60),
            help="RUNNING for longer than this counts as abandoned (default 15)",
        )

    def handle(self, *args, minutes, **options):
        stuck = requeue_stuck_tasks(older_than=datetime.timedelta(minutes=minutes))
        self.stdout.write(f"stuck tasks queued again: {len(stuck)}")
