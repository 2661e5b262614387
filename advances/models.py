"""前払金の使途管理: the money after conclusion (DESIGN.md §8).

The designated account (前払金専用口座) of a work's advances, the use plan
(前払金使途内訳明細書) in versions, withdrawals (払出依頼) confirmed by the bank, deposits and
executions reported by the bank, and the surety's audits (監査). Money is whole yen; every
balance is computed from these rows (advances.selectors), never stored.

Depends on the registry (certificates) and accounts; nothing there imports this app.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import BankBranch, Company
from certificates.models import Guarantee, Work
from esure.wareki import yen
from esure.workflow import StatusHistory


class WorkKind(models.TextChoices):
    """Which 標準約款 decides the allowed uses (advances.rules, rule 1): 工事 (公共工事標準請負
    契約約款 第37条), 設計・調査 and 測量 (their own standard contracts)."""

    CONSTRUCTION = "construction", "工事"
    DESIGN = "design", "設計・調査"
    SURVEY = "survey", "測量"


class Funding(models.TextChoices):
    """Which advance a plan line is paid from (rule 3 counts them separately)."""

    ADVANCE = "advance", "前払金"
    INTERMEDIATE = "intermediate", "中間前払金"


class AccountType(models.TextChoices):
    ORDINARY = "ordinary", "普通"
    CURRENT = "current", "当座"


class EvidenceKind(models.Model):
    """A kind of supporting document (下請契約書, 施工体制台帳, 請求書…), data kept by staff."""

    name = models.CharField("名称", max_length=100)
    sort_order = models.PositiveSmallIntegerField("表示順", default=0)

    class Meta:
        verbose_name = "証憑の種類"
        verbose_name_plural = "証憑の種類"
        ordering = ["sort_order", "pk"]
        constraints = [models.UniqueConstraint(fields=["name"], name="evidence_kind_name")]

    def __str__(self):
        return self.name


class UseCategory(models.Model):
    """A use the advance may pay for (使途の区分), per kind of work (rule 1), with the evidence
    a withdrawal for it needs (rule 7) and whether it is paid to the contractor's own
    account (rule 6). Seeded by migration 0002 (advances/seed.py); staff keep it."""

    class Payment(models.TextChoices):
        PAYEE = "payee", "支払先の口座へ振込"
        OWN_ACCOUNT = "own_account", "自社口座へ振替"

    code = models.SlugField("コード", max_length=40)
    name = models.CharField("区分", max_length=100)
    work_kinds = models.JSONField("対象となる業務の種類", default=list, blank=True)
    payment = models.CharField(
        "払出先", max_length=20, choices=Payment.choices, default=Payment.PAYEE
    )
    is_overhead = models.BooleanField(
        "現場管理費・一般管理費等（前払金の25%まで）",
        default=False,
        help_text="特約のある工事だけが計上でき、1行「一式」で自社口座に振り替えます。",
    )
    evidence_kinds = models.ManyToManyField(
        EvidenceKind, blank=True, related_name="categories", verbose_name="必要な証憑"
    )
    sort_order = models.PositiveSmallIntegerField("表示順", default=0)
    active = models.BooleanField("使用中", default=True)

    class Meta:
        verbose_name = "使途の区分"
        verbose_name_plural = "使途の区分"
        ordering = ["sort_order", "pk"]
        constraints = [models.UniqueConstraint(fields=["code"], name="use_category_code")]

    def __str__(self):
        return self.name

    @property
    def paid_to_own_account(self):
        return self.payment == self.Payment.OWN_ACCOUNT


class AdvanceAccount(models.Model):
    """The designated account (前払金専用口座, a 別口普通預金) of one work's advances, at a branch
    of a bank holding a 委託契約 with the surety. The 前払金 and a later 中間前払金 are paid
    into it; every payment out of it is a withdrawal the bank confirms.

    The designation has a state: DESIGNATED until the 前払金保証 is completed (完成) and the
    designation released (指定解除, services.release_account, decision 0026): a released
    account takes no deposit and no withdrawal; what it still holds is shown with its
    remaining balance. Balances: advances.selectors.position_of.
    """

    class State(models.TextChoices):
        DESIGNATED = "designated", "指定中"
        RELEASED = "released", "指定解除"

    work = models.ForeignKey(
        Work, on_delete=models.PROTECT, related_name="advance_accounts", verbose_name="工事"
    )
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="advance_accounts", verbose_name="受注者"
    )
    guarantee = models.ForeignKey(
        Guarantee,
        on_delete=models.PROTECT,
        related_name="advance_accounts",
        verbose_name="前払金保証",
    )
    branch = models.ForeignKey(
        BankBranch,
        on_delete=models.PROTECT,
        related_name="advance_accounts",
        verbose_name="預託金融機関・支店",
    )
    account_number = models.CharField("口座番号", max_length=7)
    holder = models.CharField("口座名義", max_length=100)
    work_kind = models.CharField("業務の種類", max_length=20, choices=WorkKind.choices)
    overhead_clause = models.BooleanField(
        "現場管理費等を前払金の使途に含める特約あり", default=False
    )
    # The contractor's own account (自社口座): where 直用労務費, 保証料 and the 25% line go.
    own_bank = models.CharField("自社口座の金融機関", max_length=100)
    own_branch = models.CharField("自社口座の支店", max_length=100)
    own_account_type = models.CharField(
        "自社口座の種別", max_length=20, choices=AccountType.choices, default=AccountType.ORDINARY
    )
    own_account_number = models.CharField("自社口座の口座番号", max_length=7)
    own_holder = models.CharField("自社口座の名義", max_length=100)
    state = models.CharField(
        "指定の状態", max_length=20, choices=State.choices, default=State.DESIGNATED
    )
    # A JV that deposits its advance split by 出資比率 has one account per member company,
    # each for the member's share (decision 0035); empty: the account takes the whole advance.
    member = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name="構成員（出資比率で分割預託）",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="登録者"
    )
    registered_at = models.DateTimeField("登録日時", default=timezone.now)
    released_on = models.DateField("指定解除日", null=True, blank=True)
    released_at = models.DateTimeField("指定解除の記録日時", null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="指定解除を記録した利用者",
    )

    class Meta:
        verbose_name = "前払金専用口座"
        verbose_name_plural = "前払金専用口座"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account_number__regex=r"^[0-9]{7}$"),
                name="advance_account_number_7_digits",
            ),
            models.CheckConstraint(
                condition=models.Q(own_account_number__regex=r"^[0-9]{7}$"),
                name="advance_own_account_number_7_digits",
            ),
            models.UniqueConstraint(
                fields=["work"],
                condition=models.Q(state="designated", member__isnull=True),
                name="advance_account_one_designated_per_work",
            ),
            # A split JV: one designated account per member company (decision 0035).
            models.UniqueConstraint(
                fields=["work", "member"],
                condition=models.Q(state="designated", member__isnull=False),
                name="advance_account_one_designated_per_member",
            ),
            models.UniqueConstraint(
                fields=["branch", "account_number"],
                condition=models.Q(state="designated"),
                name="advance_account_number_unique_at_branch",
            ),
            models.CheckConstraint(
                condition=models.Q(state="designated", released_on__isnull=True)
                | models.Q(state="released", released_on__isnull=False),
                name="advance_account_released_with_its_day",
            ),
        ]

    def __str__(self):
        return f"{self.branch} {self.account_number}（{self.work}）"


class UsePlan(models.Model):
    """One version of the 前払金使途内訳明細書 of an account (v1, v2…).

    A version is edited only while DRAFT; once submitted it is frozen (its PDF is stored),
    and a correction or a 使途変更 is a new version copied from it. Accepting a version
    supersedes the one in force. Status moves: advances.services.PLAN_ALLOWED.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "作成中"
        SUBMITTED = "submitted", "提出済（保証会社の確認待ち）"
        RETURNED = "returned", "差戻し"
        ACCEPTED = "accepted", "承認済（適用中）"
        SUPERSEDED = "superseded", "変更済（旧版）"
        WITHDRAWN = "withdrawn", "取下げ"

    account = models.ForeignKey(
        AdvanceAccount, on_delete=models.PROTECT, related_name="plans", verbose_name="口座"
    )
    version = models.PositiveSmallIntegerField("版")
    status = models.CharField("状態", max_length=20, choices=Status.choices, default=Status.DRAFT)
    is_change = models.BooleanField("使途変更", default=False)
    based_on = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="変更前の明細書",
    )
    reason = models.TextField("変更の理由", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="作成者"
    )
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    submitted_at = models.DateTimeField("提出日時", null=True, blank=True)
    decided_at = models.DateTimeField("承認・差戻し日時", null=True, blank=True)
    # Rendered once at submission and stored (the printed form), with its SHA-256.
    pdf = models.FileField("PDF", upload_to="advances/pdf/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField("PDFのSHA-256", max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField("PDFのバイト数", null=True, blank=True)

    OPEN = (Status.DRAFT, Status.SUBMITTED)

    class Meta:
        verbose_name = "前払金使途内訳明細書"
        verbose_name_plural = "前払金使途内訳明細書"
        ordering = ["account", "version"]
        constraints = [
            models.UniqueConstraint(fields=["account", "version"], name="use_plan_version"),
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status__in=["draft", "submitted"]),
                name="use_plan_one_open_per_account",
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status="accepted"),
                name="use_plan_one_in_force_per_account",
            ),
        ]

    def __str__(self):
        return f"明細書 第{self.version}版（{self.account.work}）"

    @property
    def title(self):
        return "前払金使途内訳明細書" + ("（使途変更）" if self.is_change else "")


class PlanStatusChange(StatusHistory):
    statuses = UsePlan.Status

    plan = models.ForeignKey(UsePlan, on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = "明細書の状態変更"
        verbose_name_plural = "明細書の状態変更"

    def __str__(self):
        return f"{self.plan}: {super().__str__()}"

    @property
    def label(self):
        return self.get_new_status_display()


class PlanLine(models.Model):
    """One line of a plan version: a use, its payee (or 「未定」), its amount, its funding.

    `key` names the line across versions (明細番号): a 使途変更 keeps it, so what was paid
    from a line in an earlier version still counts against it (rule 6).
    """

    plan = models.ForeignKey(UsePlan, on_delete=models.PROTECT, related_name="lines")
    key = models.PositiveIntegerField("明細番号")
    category = models.ForeignKey(
        UseCategory, on_delete=models.PROTECT, related_name="+", verbose_name="区分"
    )
    funding = models.CharField(
        "財源", max_length=20, choices=Funding.choices, default=Funding.ADVANCE
    )
    description = models.CharField("内容", max_length=200)
    undecided = models.BooleanField("支払先未定", default=False)
    payee_name = models.CharField("支払先", max_length=200, blank=True)
    payee_bank = models.CharField("振込先金融機関", max_length=100, blank=True)
    payee_branch = models.CharField("振込先支店", max_length=100, blank=True)
    payee_account_type = models.CharField(
        "振込先口座種別", max_length=20, choices=AccountType.choices, blank=True
    )
    payee_account_number = models.CharField("振込先口座番号", max_length=7, blank=True)
    payee_holder = models.CharField("振込先口座名義", max_length=100, blank=True)
    method = models.CharField("支払方法", max_length=100, blank=True)
    amount = models.PositiveBigIntegerField("金額（円）")

    class Meta:
        verbose_name = "明細"
        verbose_name_plural = "明細"
        ordering = ["plan", "key"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="plan_line_key"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="plan_line_amount"),
        ]

    def __str__(self):
        return f"{self.key}. {self.category} {self.description}"


class Withdrawal(models.Model):
    """A withdrawal request (払出依頼) against plan lines (or interest), sent to the bank.

    Edited only while DRAFT; frozen from submission (its 払出依頼書 PDF stored). A refused
    one stays as it was; its correction is a new withdrawal copied from it (`replaces`).
    Status moves: advances.services.WITHDRAWAL_ALLOWED.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "作成中"
        CASH_REVIEW = "cash_review", "現金払出の承認待ち（保証会社）"
        SUBMITTED = "submitted", "金融機関の確認待ち"
        CONFIRMED = "confirmed", "確認済（払出待ち）"
        EXECUTED = "executed", "払出済"
        REJECTED = "rejected", "不承認"
        CANCELLED = "cancelled", "取下げ"
        # Closed by the 指定解除 of its account (services.release_account): a request the
        # bank had not yet confirmed can never be confirmed once the designation ends.
        VOIDED = "voided", "取消（指定解除）"

    account = models.ForeignKey(
        AdvanceAccount, on_delete=models.PROTECT, related_name="withdrawals", verbose_name="口座"
    )
    number = models.PositiveIntegerField("払出依頼番号")
    status = models.CharField("状態", max_length=20, choices=Status.choices, default=Status.DRAFT)
    cash = models.BooleanField("現金での払出", default=False)
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="修正前の払出依頼",
    )
    requested_on = models.DateField("払出希望日", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="作成者"
    )
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    submitted_at = models.DateTimeField("依頼日時", null=True, blank=True)
    confirmed_at = models.DateTimeField("確認日時", null=True, blank=True)
    executed_on = models.DateField("払出日", null=True, blank=True)
    executed_amount = models.PositiveBigIntegerField("払出額（円）", null=True, blank=True)
    bank_reference = models.CharField("取引番号", max_length=50, blank=True)
    # Rendered once at submission and stored (the printed form), with its SHA-256.
    pdf = models.FileField("PDF", upload_to="advances/pdf/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField("PDFのSHA-256", max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField("PDFのバイト数", null=True, blank=True)

    class Meta:
        verbose_name = "払出依頼"
        verbose_name_plural = "払出依頼"
        ordering = ["account", "number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="withdrawal_number"),
            # One execution per bank transaction: a report imported twice cannot count twice.
            models.UniqueConstraint(
                fields=["account", "bank_reference"],
                condition=~models.Q(bank_reference=""),
                name="withdrawal_bank_reference_once",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="executed")
                | models.Q(executed_on__isnull=False, executed_amount__isnull=False),
                name="withdrawal_executed_has_date_and_amount",
            ),
        ]

    def __str__(self):
        return f"払出依頼 第{self.number}号（{self.account.work}）"

    @property
    def reference(self):
        """The number printed on the 払出依頼書 and matched by the bank's CSV."""
        return f"{self.account_id}-{self.number}"


class WithdrawalStatusChange(StatusHistory):
    statuses = Withdrawal.Status

    withdrawal = models.ForeignKey(
        Withdrawal, on_delete=models.PROTECT, related_name="status_changes"
    )

    class Meta(StatusHistory.Meta):
        verbose_name = "払出依頼の状態変更"
        verbose_name_plural = "払出依頼の状態変更"

    def __str__(self):
        return f"{self.withdrawal}: {super().__str__()}"

    @property
    def label(self):
        return self.get_new_status_display()


class WithdrawalLine(models.Model):
    """What one withdrawal pays from one plan line (or, without a line, from interest), to
    whom: the payee and account are copied from the plan line or the contractor's own
    account when the line is added — the clerk never types them here (rule 6)."""

    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="lines")
    plan_line = models.ForeignKey(
        PlanLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="withdrawal_lines",
        verbose_name="明細",
    )
    amount = models.PositiveBigIntegerField("金額（円）")
    payee_name = models.CharField("支払先", max_length=200, blank=True)
    payee_bank = models.CharField("振込先金融機関", max_length=100, blank=True)
    payee_branch = models.CharField("振込先支店", max_length=100, blank=True)
    payee_account_type = models.CharField(
        "振込先口座種別", max_length=20, choices=AccountType.choices, blank=True
    )
    payee_account_number = models.CharField("振込先口座番号", max_length=7, blank=True)
    payee_holder = models.CharField("振込先口座名義", max_length=100, blank=True)

    class Meta:
        verbose_name = "払出明細"
        verbose_name_plural = "払出明細"
        ordering = ["withdrawal", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="withdrawal_line_amount")
        ]

    def __str__(self):
        return f"{self.plan_line or '利息'} {yen(self.amount)}"

    @property
    def is_interest(self):
        return self.plan_line_id is None


class Evidence(models.Model):
    """A supporting document of a withdrawal line (PDF/JPEG/PNG, checked by its bytes),
    stored through the storage API with its SHA-256 and served only through an access check."""

    line = models.ForeignKey(WithdrawalLine, on_delete=models.PROTECT, related_name="evidence")
    kind = models.ForeignKey(
        EvidenceKind, on_delete=models.PROTECT, related_name="+", verbose_name="種類"
    )
    file = models.FileField("ファイル", upload_to="advances/evidence/%Y/%m/")
    name = models.CharField("ファイル名", max_length=200)
    content_type = models.CharField("形式", max_length=50)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveIntegerField("バイト数")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("登録日時", default=timezone.now)

    class Meta:
        verbose_name = "証憑"
        verbose_name_plural = "証憑"
        ordering = ["line", "pk"]

    def __str__(self):
        return f"{self.kind}: {self.name}"


class Deposit(models.Model):
    """Money paid into the account (入金), reported by the bank: the 前払金 or 中間前払金 from
    the orderer, or interest (利息)."""

    class Kind(models.TextChoices):
        ADVANCE = "advance", "前払金"
        INTERMEDIATE = "intermediate", "中間前払金"
        INTEREST = "interest", "利息"

    account = models.ForeignKey(
        AdvanceAccount, on_delete=models.PROTECT, related_name="deposits", verbose_name="口座"
    )
    kind = models.CharField("種類", max_length=20, choices=Kind.choices)
    received_on = models.DateField("入金日")
    amount = models.PositiveBigIntegerField("金額（円）")
    reference = models.CharField("取引番号", max_length=50, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="記録者",
    )
    recorded_at = models.DateTimeField("記録日時", default=timezone.now)

    class Meta:
        verbose_name = "入金"
        verbose_name_plural = "入金"
        ordering = ["account", "received_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="deposit_amount"),
            models.UniqueConstraint(
                fields=["account", "reference"],
                condition=~models.Q(reference=""),
                name="deposit_reference_once",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {yen(self.amount)}（{self.received_on}）"


class BankImport(models.Model):
    """A CSV of executed transfers imported by a branch (払出報告 in bulk). The file's
    SHA-256 is unique per branch: the same file twice is refused; a row already recorded
    (its withdrawal executed) is skipped, so nothing counts twice."""

    branch = models.ForeignKey(
        BankBranch, on_delete=models.PROTECT, related_name="imports", verbose_name="支店"
    )
    name = models.CharField("ファイル名", max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64)
    file = models.FileField("ファイル", upload_to="advances/imports/%Y/%m/")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="取込者",
    )
    imported_at = models.DateTimeField("取込日時", default=timezone.now)
    result = models.JSONField("結果", default=list)

    class Meta:
        verbose_name = "払出報告の取込"
        verbose_name_plural = "払出報告の取込"
        ordering = ["-imported_at"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "sha256"], name="bank_import_file_once")
        ]

    def __str__(self):
        return f"{self.branch} {self.name}"


class Inspection(models.Model):
    """The surety's audit (監査) of the use of an advance (公共工事の前払金保証事業に関する
    法律 第27条): desk or on site, opened from the monitoring list or by hand, closed with
    its findings. (Named Inspection: `audit` is the audit-trail app.)"""

    class Kind(models.TextChoices):
        DESK = "desk", "書面監査"
        ONSITE = "onsite", "実地監査"

    class Status(models.TextChoices):
        OPEN = "open", "実施中"
        CLOSED = "closed", "完了"

    account = models.ForeignKey(
        AdvanceAccount, on_delete=models.PROTECT, related_name="inspections", verbose_name="口座"
    )
    kind = models.CharField("監査の種類", max_length=20, choices=Kind.choices)
    status = models.CharField("状態", max_length=20, choices=Status.choices, default=Status.OPEN)
    from_monitoring = models.BooleanField("監視リストから", default=False)
    reason = models.TextField("監査の理由", blank=True)
    findings = models.TextField("所見", blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="開始者"
    )
    opened_at = models.DateTimeField("開始日時", default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name="完了者",
    )
    closed_at = models.DateTimeField("完了日時", null=True, blank=True)

    class Meta:
        verbose_name = "監査（使途の確認）"
        verbose_name_plural = "監査（使途の確認）"
        ordering = ["-opened_at"]

    def __str__(self):
        return f"{self.get_kind_display()}（{self.account.work}）"
