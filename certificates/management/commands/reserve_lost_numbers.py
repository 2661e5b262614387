"""After a restore to an earlier point in time (docs/operations.md, "A restore lost
conclusions"): list the 保証契約番号 whose PDFs are in the storage but whose guarantees the
restored database no longer has, and with --apply raise the number counters past them, so
that no number is ever given to a second guarantee.

Exit 0 when nothing is lost or the counters were raised; exit 1 on a dry run that found lost
numbers (the operator must act before reopening).
"""

import sys

from django.core.management.base import BaseCommand

from certificates import services
from certificates.integrity import lost_numbers
from certificates.numbering import format_number


class Command(BaseCommand):
    help = "Finds numbers lost by a restore (PDF stored, no guarantee) and reserves them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--apply", action="store_true", help="raise the counters (default: only list)"
        )

    def handle(self, *args, **options):
        lost = lost_numbers()
        if not lost:
            self.stdout.write("lost numbers: none (every stored PDF has its guarantee)")
            return
        self.stdout.write(f"lost numbers: {len(lost)}")
        for number in lost:
            self.stdout.write(f"  {format_number(number)}")
        if not options["apply"]:
            self.stderr.write("dry run: run again with --apply to reserve them")
            sys.exit(1)
        raised = services.reserve_numbers(numbers=lost, by="reserve_lost_numbers")
        for (fiscal_year, digit), (old, new) in sorted(raised.items()):
            self.stdout.write(f"counter 令和{fiscal_year}年度 種類{digit}: {old} → {new}")
        self.stdout.write(f"reserved: {len(lost)} numbers, {len(raised)} counters raised")
