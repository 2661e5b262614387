"""Demo data of 前払金の使途管理 for `make run`, after `load_demo`: a demo bank with a
委託契約 and its 津久見支店, a bank user there, and the demo 前払金保証's designated account
at that branch with the advance paid in — so the clerk can draft the 明細書 at once and the
bank user sees the account. Idempotent; refuses outside DEBUG. (A command of its own:
`applications`, where load_demo lives, never imports this app.)"""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Bank, BankBranch, BankMembership, Company, User
from advances import services
from advances.models import AdvanceAccount, Deposit, EvidenceKind, UseCategory
from advances.seed import seed
from certificates.models import Guarantee
from esure.choices import GuaranteeKind

BANK_EMAIL = "bank@demo.esure.example"
BANK_PASSWORD = "demo-bank-branch-2026"  # noqa: S105 — demo only, printed on purpose
DEMO_COMPANY = "9320000999001"  # load_demo's company
STAFF_EMAIL = "staff@demo.esure.example"


class Command(BaseCommand):
    help = "Loads the demo bank, bank user and designated account (idempotent). DEBUG only."

    def handle(self, *args, **options):
        if not settings.ESURE_DEMO_ALLOWED:
            raise CommandError("Demo data loads only with DEBUG on (never in production).")
        if not Company.objects.filter(corporate_number=DEMO_COMPANY).exists():
            raise CommandError("Run `manage.py load_demo` first (make run does both).")
        with transaction.atomic():
            seed(UseCategory, EvidenceKind)
            bank, _ = Bank.objects.get_or_create(
                code="0999", defaults={"name": "デモ銀行", "entrusted": True}
            )
            branch, _ = BankBranch.objects.get_or_create(
                bank=bank, code="101", defaults={"name": "津久見支店"}
            )
            staff = User.objects.get(email=STAFF_EMAIL)
            banker = self._bank_user(branch, staff)
            account = self._account(branch, banker)
        self.stdout.write(
            f"\n  Bank user (預託金融機関, {branch}): {BANK_EMAIL} / {BANK_PASSWORD}"
            f"\n  Demo 前払金専用口座: {branch} {account.account_number}"
            f" ({account.work.name})\n"
        )

    def _bank_user(self, branch, staff):
        user = User.objects.filter(email=BANK_EMAIL).first()
        if user is None:
            user = User.objects.create_user(BANK_EMAIL, BANK_PASSWORD, name="デモ銀行 窓口担当")
            EmailAddress.objects.create(user=user, email=BANK_EMAIL, verified=True, primary=True)
        if not BankMembership.objects.filter(user=user).exists():
            invitation = account_services.invite_bank_user(
                branch=branch, email=BANK_EMAIL, by=staff
            )
            account_services.accept_bank_invitation(invitation=invitation, user=user)
        return user

    def _account(self, branch, banker):
        company = Company.objects.get(corporate_number=DEMO_COMPANY)
        guarantee = (
            Guarantee.objects.filter(company=company, kind=GuaranteeKind.ADVANCE)
            .order_by("pk")
            .first()
        )
        account = AdvanceAccount.objects.filter(work=guarantee.work).first()
        if account is None:
            account = services.register_account(
                guarantee=guarantee,
                by=company.memberships.order_by("pk").first().user,
                branch=branch,
                account_number="0012345",
                holder="ｶ)ﾃﾞﾓｹﾝｾﾂ ｾﾞﾝﾊﾞﾗｲｷﾝｸﾞﾁ",
                work_kind="construction",
                overhead_clause=True,
                own_bank="デモ銀行",
                own_branch="津久見支店",
                own_account_type="ordinary",
                own_account_number="0054321",
                own_holder="ｶ)ﾃﾞﾓｹﾝｾﾂ",
            )
        if not account.deposits.exists():
            services.record_deposit(
                account=account,
                by=banker,
                kind=Deposit.Kind.ADVANCE,
                received_on=timezone.localdate(),
                amount=guarantee.certificates.order_by("-version").first().amount,
                reference="DEMO-0001",
            )
        return account
