"""`manage.py extend_timestamps`: the yearly task that keeps every signed PDF verifiable
(docs/operations.md "Timestamps, every year"; decision 0012).

A timestamp proves its time only while its TSA certificate can still be validated. For every
stored PDF's newest record whose last timestamp's TSA certificate expires within --days
(default 400: a yearly run with a margin), or that has no timestamp yet, it adds the
validation data and a new document timestamp (PAdES B-LTA) through
certificates.services.extend_document: computed from a copy, stored under a new name and
recorded as a new document that extends the old one, in one transaction — the old bytes and
hash stay, the registry stays append-only. Unsigned (legacy) PDFs are left as they are.
--dry-run only lists what is due. Exit 1 if any document failed.
"""

import datetime
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from certificates import seal, services
from certificates.models import Document


class Command(BaseCommand):
    help = "Adds a document timestamp (PAdES B-LTA) to stored PDFs whose last one nears its end."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=400)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, days, dry_run, **options):
        if not seal.configured() or not settings.ESURE_TSA_URL:
            raise CommandError("ESURE_SEAL_P12 and ESURE_TSA_URL must be set")
        horizon = timezone.now() + datetime.timedelta(days=days)
        counts = {"extended": 0, "due": 0, "not due": 0, "unsigned": 0, "failed": 0}
        newest = Document.objects.filter(extension__isnull=True).select_related(
            "certificate__guarantee"
        )
        for document in newest.order_by("pk").iterator(chunk_size=200):
            label = (
                f"{document.certificate.guarantee.number_display} "
                f"v{document.certificate.version} {document.kind}"
            )
            try:
                with document.file.open("rb") as f:
                    signed, expiry = seal.timestamp_state(f.read())
            except Exception as error:  # a missing or unreadable file: verify_storage's job
                counts["failed"] += 1
                self.stderr.write(f"{label}: unreadable ({error.__class__.__name__})")
                continue
            if not signed:
                counts["unsigned"] += 1
                continue
            if expiry is not None and expiry > horizon:
                counts["not due"] += 1
                continue
            counts["due"] += 1
            until = f"until {expiry:%Y-%m-%d}" if expiry else "no timestamp yet"
            if dry_run:
                self.stdout.write(f"due {label} ({until})")
                continue
            try:
                services.extend_document(document=document)
            except Exception as error:
                counts["failed"] += 1
                self.stderr.write(f"{label}: {error}")
                continue
            counts["extended"] += 1
            self.stdout.write(f"extended {label} (was {until})")
        self.stdout.write(", ".join(f"{name}: {n}" for name, n in counts.items()))
        if counts["failed"]:
            sys.exit(1)
