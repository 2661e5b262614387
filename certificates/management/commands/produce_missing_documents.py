"""The sweep behind the after-commit documents (decision 0033): render, sign and store the
お客様控え and 保証料計算書 of every certificate version that still lacks them — a worker died
between a conclusion's commit and its task, or the task failed for good. Run it every few
minutes beside the workers (docs/operations.md); safe to run often and from several hosts.
A version whose documents are deferred to the evening (ESURE_DEFERRED_DOCUMENTS_FROM, decision
0052) is left to its task until they are due (certificates.rules.sweep_before)."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from certificates import rules, services


class Command(BaseCommand):
    help = "Produces the after-commit documents (お客様控え, 保証料計算書) still missing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes",
            type=int,
            default=10,
            help="leave versions whose documents were due within this many minutes to the "
            "queue (default 10)",
        )

    def handle(self, *args, minutes, **options):
        before = rules.sweep_before(
            timezone.now(),
            settings.ESURE_DEFERRED_DOCUMENTS_FROM,
            grace=datetime.timedelta(minutes=minutes),
        )
        done, failed = services.produce_missing_documents(issued_before=before)
        self.stdout.write(f"versions completed: {len(done)}, failed: {len(failed)}")
        if failed:
            raise CommandError(
                "documents still missing for certificates " + ", ".join(str(c.pk) for c in failed)
            )
