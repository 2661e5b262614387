"""Check that every key recorded by `export_key_check` still verifies here: the restored
database kept each key_version and ESURE_AUTH_KEY_SECRET is the same secret.

Exit 0 and "keys OK: N"; exit 1 with the first failures on stderr. Never prints a key.
"""

import sys

from django.core.management.base import BaseCommand

from certificates.integrity import verify_key_check


class Command(BaseCommand):
    help = "Verifies the 認証キー recorded in a key check file (export_key_check) still verify."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="path", required=True, help="the key check file")

    def handle(self, *args, path, **options):
        with open(path, encoding="ascii") as f:
            report = verify_key_check(f)
        if not report.passed:
            for line in report.failures:
                self.stderr.write(line)
            self.stderr.write(
                f"keys FAILED: {report.failed} of {report.ok + report.failed} "
                f"(first {len(report.failures)} listed above)"
            )
            sys.exit(1)
        self.stdout.write(f"keys OK: {report.ok}")
