"""Write the key check file for `verify_keys`: per guarantee with a key, its number,
key_version and SHA-256(number:key) — never the key (certificates/integrity.py)."""

import os

from django.core.management.base import BaseCommand

from certificates.integrity import key_check_lines


class Command(BaseCommand):
    help = "Writes number, key_version and a digest of the current 認証キー per guarantee."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="file to write (created mode 600)")

    def handle(self, *args, out, **options):
        count = 0
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # also when the file existed with another mode
        with open(fd, "w", encoding="ascii") as f:
            for line in key_check_lines():
                f.write(line + "\n")
                count += 1
        self.stdout.write(f"key check written: {count - 1} keys")
