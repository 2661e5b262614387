"""Check every stored PDF against the SHA-256 recorded at issuance (docs/operations.md).

Exit 0 and "documents OK: N (B bytes)"; exit 1 with the first failures on stderr.
Run it weekly, and after every restore.
"""

import sys

from django.core.management.base import BaseCommand

from certificates.integrity import verify_documents


class Command(BaseCommand):
    help = "Verifies every stored PDF (Document) against its recorded SHA-256."

    def handle(self, *args, **options):
        report = verify_documents()
        if not report.passed:
            for line in report.failures:
                self.stderr.write(line)
            self.stderr.write(
                f"documents FAILED: {report.failed} of {report.ok + report.failed} "
                f"(first {len(report.failures)} listed above)"
            )
            sys.exit(1)
        self.stdout.write(f"documents OK: {report.ok} ({report.bytes:,} bytes)")
