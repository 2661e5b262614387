"""Seed the restore drill's own source database (ops/restore-drill.sh) through the real
services: load_demo (津久見市, the demo company, staff, fee tables, one concluded 前払金保証),
then more concluded guarantees, one 書面交付 (no key), one key re-issue (key_version 2) and
one 保証期限変更 (Certificate v2), so every kind of row a backup must carry exists,
and every document the worker would have made.

Refuses unless DEBUG is on (as load_demo) and the database is a drill database (its name
starts with "esure_drill"): the guarantees are fake but their numbers come from the real
gapless counter, and certificates cannot be deleted afterwards.
"""

import datetime
import io

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from accounts.models import Company, User
from applications import services
from applications.management.commands import load_demo
from applications.models import Application
from certificates import selectors as registry_selectors
from certificates import services as registry
from certificates.models import Guarantee, Work

DRILL_DATABASE_PREFIX = "esure_drill"


class Command(BaseCommand):
    help = "Seeds a restore-drill database (name esure_drill*) with concluded guarantees."

    def add_arguments(self, parser):
        parser.add_argument("--guarantees", type=int, default=20, help="at least 3")

    def handle(self, *args, guarantees, **options):
        name = connection.settings_dict["NAME"]
        if not str(name).startswith(DRILL_DATABASE_PREFIX):
            raise CommandError(f"seed_drill only seeds a database named {DRILL_DATABASE_PREFIX}*")
        if guarantees < 3:
            raise CommandError("--guarantees must be at least 3")
        # load_demo prints the demo key: keep its output, as every key, off the terminal.
        call_command("load_demo", stdout=io.StringIO())
        seed_drill(guarantees)
        self.stdout.write(
            f"seeded: {Guarantee.objects.count()} guarantees, "
            f"{Guarantee.objects.filter(key_version__gte=2).count()} re-issued key(s)"
        )


def seed_drill(guarantees):
    """Conclude guarantees until the demo company has `guarantees`, then re-issue one key
    and extend one guarantee's period. Each conclusion renders its three PDFs."""
    company = Company.objects.get(corporate_number=load_demo.DEMO_CORPORATE_NUMBER)
    clerk = User.objects.get(email=load_demo.CLERK_EMAIL)
    staff = User.objects.get(email=load_demo.STAFF_EMAIL)
    first = Guarantee.objects.filter(company=company).order_by("pk").first()
    paper = Guarantee.objects.filter(company=company, delivery=Guarantee.Delivery.PAPER).exists()
    while Guarantee.objects.filter(company=company).count() < guarantees:
        delivery = Application.Delivery.ELECTRONIC if paper else Application.Delivery.PAPER
        _conclude(company, clerk, staff, delivery)
        paper = True
    registry.reissue_key(guarantee=first, by=staff, reason="復元訓練（デモ）")
    _extend_period(first, clerk, staff)
    # The お客様控え and 保証料計算書 as the worker makes them after each commit (decision
    # 0033): the drill runs no worker, and a backup must carry every document.
    registry.produce_missing_documents()


def _conclude(company, clerk, staff, delivery):
    n = Work.objects.filter(company=company).count() + 1
    load_demo.conclude_demo_advance(
        company=company,
        clerk=clerk,
        staff=staff,
        work_number=f"津土第R8-D{n}号",
        name=f"復元訓練用道路改良工事{n}（デモ）",
        delivery=delivery,
    )


def _extend_period(guarantee, clerk, staff):
    """保証期限変更 (menu 5), entered and submitted as the change form does: approval issues
    Certificate v2 with its PDFs."""
    application = services.save_draft(
        company=guarantee.company,
        menu=Application.Menu.CHANGE,
        by=clerk,
        work=guarantee.work,
        work_values={},
        application_values={
            "guarantee": guarantee,
            "change_kind": Application.ChangeKind.PERIOD,
            "new_end_date": guarantee.work.end_date + datetime.timedelta(days=30),
            "change_contract_date": timezone.localdate(),
            "contact_name": "デモ建設 事務担当",
            "contact_phone": "0972-82-0000",
        },
        amounts={guarantee.kind: registry_selectors.current_terms(guarantee).amount},
    )
    services.submit_application(application=application, by=clerk)
    services.approve_application(application=application, by=staff)
