"""`manage.py verify_audit`: walk the audit chain; exit 0 if intact, 1 at the first break.

The restore drill and monitoring rely on the exit status and on these two lines:
    audit chain OK: N events, last hash <16 hex>…          (stdout, exit 0)
    audit chain BROKEN at seq N: <reason>        (stderr, exit 1)
"""

import sys

from django.core.management.base import BaseCommand

from audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail and report the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=2000)

    def handle(self, *args, chunk_size, **options):
        result = verify_chain(chunk_size=chunk_size)
        if not result.ok:
            self.stderr.write(
                f"audit chain BROKEN at seq {result.first_broken_seq}: {result.reason}"
            )
            sys.exit(1)  # as `makemigrations --check` does: the status is the contract
        self.stdout.write(
            f"audit chain OK: {result.count} events, last hash {result.last_hash[:16]}…"
        )
