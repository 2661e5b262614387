"""Demo data of 契約保証予約 for `make run`, after `load_demo`: one approved, valid reservation
of 株式会社デモ建設 for 津久見市 (入札日 in two weeks, 予約手数料 30,000円), so the demo clerk can
download its 手数料通知書 and turn it into a menu-1 application at once, and staff see its
予約証書 in the print queue. Idempotent; refuses outside DEBUG. (A command of its own:
`applications`, where load_demo lives, never imports this app.)"""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Company, Orderer, User
from reservations import services
from reservations.models import Reservation

DEMO_COMPANY = "9320000999001"  # load_demo's company
CLERK_EMAIL = "clerk@demo.esure.example"
STAFF_EMAIL = "staff@demo.esure.example"
WORK_NAME = "津久見港線道路改良工事（デモ・契約保証予約）"
DEMO_FEE = 30_000


class Command(BaseCommand):
    help = "Loads an approved demo 契約保証予約 (idempotent). DEBUG only."

    def handle(self, *args, **options):
        if not settings.ESURE_DEMO_ALLOWED:
            raise CommandError("Demo data loads only with DEBUG on (never in production).")
        company = Company.objects.filter(corporate_number=DEMO_COMPANY).first()
        if company is None:
            raise CommandError("Run `manage.py load_demo` first (make run does both).")
        with transaction.atomic():
            reservation = Reservation.objects.filter(company=company, work_name=WORK_NAME).first()
            if reservation is None:
                reservation = self._approved(company)
        self.stdout.write(
            f"\n  Demo 契約保証予約: {reservation.number_display} ({reservation.work_name},"
            f" {reservation.get_status_display()}) — /reservations/{reservation.pk}/\n"
        )

    def _approved(self, company):
        clerk = User.objects.get(email=CLERK_EMAIL)
        staff = User.objects.get(email=STAFF_EMAIL)
        reservation = services.save_draft(
            company=company,
            by=clerk,
            values={
                "orderer": Orderer.objects.get(name="津久見市"),
                "work_name": WORK_NAME,
                "bid_date": timezone.localdate() + datetime.timedelta(days=14),
                "estimated_price": 45_000_000,
                "amount": 4_500_000,  # 10%
                "advance_planned": True,
                "contact_name": "デモ建設 事務担当",
                "contact_phone": "0972-82-0000",
            },
        )
        reservation = services.submit_reservation(reservation=reservation, by=clerk)
        return services.approve_reservation(reservation=reservation, by=staff, fee=DEMO_FEE)
