"""Demo data for `make run`: 津久見市 and its offices, a paper-only orderer, a verified demo
contractor with a clerk, a surety staff user and the demo fee tables. Idempotent; refuses
outside DEBUG. It lives in `applications`, the app that may import all the others."""

import datetime
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.models import (
    Company,
    OfficeMembership,
    Orderer,
    OrdererOffice,
    OrdererSubmissionChannel,
    User,
)
from applications import services as app_services
from applications.fees import expected_fee
from applications.management.commands.load_demo_fees import load_demo_fee_tables
from applications.models import Application
from certificates.models import Guarantee
from certificates.services import current_key
from esure.choices import ContractMethod, GuaranteeKind, SubmissionChannel, WorkCategory

CLERK_EMAIL = "clerk@demo.esure.example"
CLERK_PASSWORD = "demo-clerk-2026"  # noqa: S105 — demo only, printed on purpose
MEMBER_EMAIL = "member@demo.esure.example"
MEMBER_PASSWORD = "demo-member-2026"  # noqa: S105 — demo only, printed on purpose
STAFF_EMAIL = "staff@demo.esure.example"
STAFF_PASSWORD = "demo-staff-2026"  # noqa: S105 — demo only, printed on purpose
OFFICE_EMAIL = "doboku@demo.esure.example"
OFFICE_PASSWORD = "demo-office-2026"  # noqa: S105 — demo only, printed on purpose

TSUKUMI = {
    "prefecture": "大分県",
    "head_title": "津久見市長",
    "electronic_since": datetime.date(2024, 10, 1),
    "excluded_contract_methods": [],
    "printout_required": True,
    "electronic_terms_name": "津久見市公共工事請負契約約款【R6.10.1~】:電子保証用",
    "submission_note": "持参（FAXも可）。詳細は津久見市の各発注機関にご確認ください。",
}
TSUKUMI_OFFICES = [
    ("総務課 契約担当", [GuaranteeKind.CONTRACT], "0972-82-9511"),
    ("土木課 工事担当", [GuaranteeKind.ADVANCE, GuaranteeKind.INTERMEDIATE], "0972-82-9517"),
]
PAPER_ORDERER = {
    "prefecture": "大分県",
    "head_title": "デモ町長",
    "electronic_since": None,
    "printout_required": False,
    "submission_note": "書面の保証証書を持参してください。",
}
DEMO_COMPANY = {
    "name": "株式会社デモ建設",
    "name_kana": "カブシキガイシャデモケンセツ",
    "representative_title": "代表取締役",
    "representative_name": "津久見 太郎",
    "postal_code": "879-2435",
    "address": "大分県津久見市宮本町20番15号",
    "phone": "0972-82-0000",
    "license_number": "大分県知事許可(般-6)第12345号",
}
DEMO_CORPORATE_NUMBER = "9320000999001"  # fictional, valid check digit
# The second demo company, member (構成員) of the demo JV that 株式会社デモ建設 represents.
SECOND_COMPANY = {
    "name": "津久見建設株式会社",
    "name_kana": "ツクミケンセツカブシキガイシャ",
    "representative_title": "代表取締役",
    "representative_name": "堅徳 花子",
    "postal_code": "879-2471",
    "address": "大分県津久見市大字上青江1番地",
    "phone": "0972-82-1111",
    "license_number": "大分県知事許可(般-6)第23456号",
}
SECOND_CORPORATE_NUMBER = "8320000999002"  # fictional, valid check digit
DEMO_JV = {
    "name": "津久見・デモ特定建設工事共同企業体",
    "kind": "specific",
    "advance_deposit": "representative",
    "own_share": Decimal("60.0"),
}
# The demo company's contracting office (契約営業所) and its 受任者: the demo guarantee is
# contracted through it, so its certificate names 「株式会社デモ建設 大分支店 支店長 津久見 次郎」.
DEMO_BRANCH = {
    "name": "大分支店",
    "postal_code": "870-0021",
    "address": "大分県大分市府内町一丁目1番1号",
    "agent_title": "支店長",
    "agent_name": "津久見 次郎",
}


class Command(BaseCommand):
    help = "Loads the demo data (idempotent). Only with DEBUG on."

    def handle(self, *args, **options):
        if not settings.ESURE_DEMO_ALLOWED:
            raise CommandError("Demo data loads only with DEBUG on (never in production).")
        self.created = 0
        with transaction.atomic():
            staff = self._user(STAFF_EMAIL, STAFF_PASSWORD, name="保証会社 審査担当", staff=True)
            self._orderers()
            self._office_user()
            clerk = self._user(CLERK_EMAIL, CLERK_PASSWORD, name="デモ建設 事務担当")
            company = self._company(clerk)
            if company.status != Company.Status.VERIFIED:
                services.verify_company(company=company, by=staff, note="デモデータ")
            self._branch(company, clerk)
            self._joint_venture(company, clerk, staff)
            self.created += load_demo_fee_tables()
            guarantee = self._concluded_guarantee(company, clerk, staff)
        self.stdout.write(f"Demo data: {self.created} new rows.")
        self.stdout.write(
            f"\n  Contractor clerk (受注者): {CLERK_EMAIL} / {CLERK_PASSWORD}"
            f"\n  JV member (構成員, 津久見建設): {MEMBER_EMAIL} / {MEMBER_PASSWORD}"
            f"\n  Surety staff (保証会社):   {STAFF_EMAIL} / {STAFF_PASSWORD}"
            f"\n  津久見市 土木課 (受信箱):  {OFFICE_EMAIL} / {OFFICE_PASSWORD}"
            f"\n  D-Sure (発注者, no login): 保証契約番号 {guarantee.number_display}"
            f" / 認証キー {current_key(guarantee)}  (demo only)\n"
        )

    def _count(self, created):
        self.created += int(created)

    def _user(self, email, password, name, staff=False):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, password, name=name, is_staff=staff, is_superuser=staff
            )
            self._count(True)
        _, created = EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        self._count(created)
        return user

    def _orderers(self):
        tsukumi, created = Orderer.objects.get_or_create(name="津久見市", defaults=TSUKUMI)
        self._count(created)
        for kind in GuaranteeKind:
            for channel in (SubmissionChannel.CARRY, SubmissionChannel.FAX):
                _, created = OrdererSubmissionChannel.objects.get_or_create(
                    orderer=tsukumi, kind=kind, channel=channel
                )
                self._count(created)
        # The demo city takes 前払金保証 in esure's 受信箱 (decision 0018): the demo guarantee
        # is delivered to 土木課 工事担当 at conclusion, with no key to hand over.
        _, created = OrdererSubmissionChannel.objects.get_or_create(
            orderer=tsukumi, kind=GuaranteeKind.ADVANCE, channel=SubmissionChannel.INBOX
        )
        self._count(created)
        for name, kinds, phone in TSUKUMI_OFFICES:
            _, created = OrdererOffice.objects.get_or_create(
                orderer=tsukumi,
                name=name,
                defaults={
                    "handles_kinds": list(kinds),
                    "postal_code": "879-2435",
                    "address": "大分県津久見市宮本町20番15号",
                    "phone": phone,
                },
            )
            self._count(created)
        paper, created = Orderer.objects.get_or_create(name="デモ町", defaults=PAPER_ORDERER)
        self._count(created)
        _, created = OrdererOffice.objects.get_or_create(
            orderer=paper,
            name="建設課",
            defaults={"handles_kinds": [k.value for k in GuaranteeKind]},
        )
        self._count(created)
        for kind in GuaranteeKind:
            _, created = OrdererSubmissionChannel.objects.get_or_create(
                orderer=paper, kind=kind, channel=SubmissionChannel.CARRY
            )
            self._count(created)

    def _office_user(self):
        """A 津久見市 土木課 工事担当 user, 管理者 (invites colleagues): the office's 受信箱
        holds the demo guarantee."""
        user = self._user(OFFICE_EMAIL, OFFICE_PASSWORD, name="津久見市 土木課 工事担当")
        office = OrdererOffice.objects.get(orderer__name="津久見市", name=TSUKUMI_OFFICES[1][0])
        _, created = OfficeMembership.objects.get_or_create(
            user=user, defaults={"office": office, "role": OfficeMembership.Role.ADMIN}
        )
        self._count(created)

    def _concluded_guarantee(self, company, clerk, staff):
        """One concluded 前払金保証 for 津久見市, so D-Sure can be tried at once."""
        existing = Guarantee.objects.filter(company=company).order_by("pk").first()
        if existing is not None:
            return existing
        guarantee = conclude_demo_advance(
            company=company,
            clerk=clerk,
            staff=staff,
            work_number="津土第R8-1号",
            name="市道堅徳線道路改良工事（デモ）",
            branch=company.branches.get(name=DEMO_BRANCH["name"]),
        )
        self.created += 1
        return guarantee

    def _branch(self, company, clerk):
        if not company.branches.filter(name=DEMO_BRANCH["name"]).exists():
            services.save_branch(company=company, by=clerk, **DEMO_BRANCH)
            self._count(True)

    def _joint_venture(self, company, clerk, staff):
        """津久見建設株式会社 (its clerk: MEMBER_EMAIL) and the JV 60:40 with デモ建設 as 代表者."""
        member_clerk = self._user(MEMBER_EMAIL, MEMBER_PASSWORD, name="津久見建設 事務担当")
        second = Company.objects.filter(corporate_number=SECOND_CORPORATE_NUMBER).first()
        if second is None:
            second = services.register_company(
                user=member_clerk, corporate_number=SECOND_CORPORATE_NUMBER, **SECOND_COMPANY
            )
            self._count(True)
        if second.status != Company.Status.VERIFIED:
            services.verify_company(company=second, by=staff, note="デモデータ")
        if not company.led_joint_ventures.filter(name=DEMO_JV["name"]).exists():
            services.register_joint_venture(
                company=company,
                by=clerk,
                members=[(SECOND_CORPORATE_NUMBER, Decimal("40.0"))],
                **DEMO_JV,
            )
            self._count(True)

    def _company(self, clerk):
        company = Company.objects.filter(corporate_number=DEMO_CORPORATE_NUMBER).first()
        if company is None:
            company = services.register_company(
                user=clerk, corporate_number=DEMO_CORPORATE_NUMBER, **DEMO_COMPANY
            )
            self._count(True)
        return company


def submit_demo_application(
    *,
    company,
    clerk,
    work_number,
    name,
    amounts=None,
    delivery=Application.Delivery.ELECTRONIC,
    branch=None,
):
    """A 津久見市 menu-1 application on a 12,345,000円 work (工期 from tomorrow for 150 days),
    entered and submitted by the clerk through the services, as the form does. `amounts`:
    {GuaranteeKind: amount}, by default a 前払金保証 of 4,900,000円 (the maximum)."""
    today = timezone.localdate()
    tsukumi = Orderer.objects.get(name="津久見市")
    application = app_services.save_draft(
        company=company,
        menu=Application.Menu.ADVANCE_CONTRACT,
        by=clerk,
        work_values={
            "branch": branch,
            "orderer": tsukumi,
            "office": tsukumi.offices.get(name=TSUKUMI_OFFICES[1][0]),
            "work_number": work_number,
            "name": name,
            "location": "津久見市大字堅浦地内",
            "category": WorkCategory.CONSTRUCTION,
            "contract_method": ContractMethod.GENERAL,
            "price": 12_345_000,
            "contract_date": today,
            "start_date": today + datetime.timedelta(days=1),
            "end_date": today + datetime.timedelta(days=150),
        },
        application_values={
            "delivery": delivery,
            "terms_confirmed": True,
            "contact_name": "デモ建設 事務担当",
            "contact_phone": "0972-82-0000",
        },
        amounts=amounts or {GuaranteeKind.ADVANCE: 4_900_000},
    )
    return app_services.submit_application(application=application, by=clerk)


def conclude_demo_advance(
    *,
    company,
    clerk,
    staff,
    work_number,
    name,
    delivery=Application.Delivery.ELECTRONIC,
    branch=None,
):
    """A 津久見市 前払金保証 of 4,900,000円 (submit_demo_application) through the real workflow:
    staff approve and record the fee, which concludes it (numbers, PDFs, mail). Also the
    restore drill's seed (seed_drill)."""
    today = timezone.localdate()
    application = submit_demo_application(
        company=company,
        clerk=clerk,
        work_number=work_number,
        name=name,
        delivery=delivery,
        branch=branch,
    )
    app_services.approve_application(application=application, by=staff)
    fee = expected_fee(application, today).due
    (guarantee,) = app_services.record_fee_receipt(
        application=application, received_on=today, amount=fee, method="transfer", by=staff
    )
    return guarantee
