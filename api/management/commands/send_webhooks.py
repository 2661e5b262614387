"""Collect webhook events from the audit chain (and expiring guarantees) and queue their
deliveries for the task worker; forget expired Idempotency-Keys of the API. Idempotent: run
it every minute (cron, a systemd timer, or `--every 30` as a process of its own, as `make run`
does)."""

import time

from django.core.management.base import BaseCommand

from api import events, services


class Command(BaseCommand):
    help = "Webhook のイベントを監査証跡から集め、送信を task worker に渡します。"

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="seconds between runs (loop)")

    def handle(self, *args, every=0, **options):
        while True:
            read = events.collect()
            while read == events.BATCH:
                read = events.collect()
            expiring = events.collect_expiring()
            services.purge_idempotency_keys()
            if options["verbosity"] > 1:
                self.stdout.write(f"expiring events: {len(expiring)}")
            if not every:
                return
            time.sleep(every)
