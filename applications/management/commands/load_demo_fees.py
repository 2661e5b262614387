"""Demo fee tables (デモ用の料率), labelled as demo everywhere they show. Idempotent."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from applications.fees import DEMO_TABLES
from applications.models import FeeBracket, FeeTable

VALID_FROM = datetime.date(2019, 4, 1)


def load_demo_fee_tables():
    """Create the demo table of each kind if missing; returns the number of new rows."""
    created = 0
    with transaction.atomic():
        for kind, brackets in DEMO_TABLES.items():
            table, new = FeeTable.objects.get_or_create(
                kind=kind,
                valid_from=VALID_FROM,
                defaults={"name": "デモ用料率表（実際の料率ではありません）", "is_demo": True},
            )
            created += new
            if new:
                FeeBracket.objects.bulk_create(
                    FeeBracket(
                        table=table,
                        up_to=b.up_to,
                        rate_ppm=b.rate_ppm,
                        minimum_fee=b.minimum_fee,
                    )
                    for b in brackets
                )
                created += len(brackets)
    return created


class Command(BaseCommand):
    help = "Loads the demo fee tables (idempotent). Only with DEBUG on."

    def handle(self, *args, **options):
        if not settings.ESURE_DEMO_ALLOWED:
            raise CommandError("Demo data loads only with DEBUG on (never in production).")
        self.stdout.write(f"Demo fee tables: {load_demo_fee_tables()} new rows.")
