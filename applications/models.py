"""e-Net保証: guarantee applications (menus 1, 2, 3, 5), their status table and history, and
fee tables."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Company
from certificates.models import Work
from esure.choices import Delivery, GuaranteeKind
from esure.wareki import yen
from esure.workflow import StatusHistory


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "保存中"
    SUBMITTED = "submitted", "手続き中"
    RETURNED = "returned", "差戻し"
    APPROVED = "approved", "承認済（保証料入金待ち）"
    CONCLUDED = "concluded", "締結済"
    WITHDRAWN = "withdrawn", "取下げ"
    DECLINED = "declined", "謝絶"


S = ApplicationStatus

# The one status table of the application workflow, menus 1–5 alike (STYLE.md "Status
# changes"; DESIGN.md §4): from each status, the statuses it may move to. A status without a
# row is final. applications.services._transition is the one writer of a status and checks
# this table; every list and predicate below is derived from it, never restated.
ALLOWED = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.RETURNED, S.APPROVED, S.DECLINED, S.WITHDRAWN},
    S.RETURNED: {S.SUBMITTED, S.WITHDRAWN},
    S.APPROVED: {S.CONCLUDED},
}


def statuses_leading_to(status):
    """The statuses from which the table allows a move to `status`, in the order of Status."""
    return tuple(s for s in S if status in ALLOWED.get(s, ()))


# Still in progress (not final): one per work and menu, one change per guarantee.
OPEN = tuple(ALLOWED)
# The clerk may still edit it and (re)submit it: 保存中, 差戻し.
EDITABLE = statuses_leading_to(S.SUBMITTED)
# Under review: waiting for staff, or sent back by them to be corrected (手続き中, 差戻し).
IN_REVIEW = (*statuses_leading_to(S.RETURNED), S.RETURNED)
# Concluded, or to be concluded without another decision (approved, waiting for the fee):
# menus 2 and 3 count it as guaranteed (decision 0002).
GUARANTEED = (*statuses_leading_to(S.CONCLUDED), S.CONCLUDED)
# Claims its kind for the work: every status but those that ended without a guarantee.
TAKEN = (*OPEN, S.CONCLUDED)


class Application(models.Model):
    """One application (保証申込) of a company for one Work, through one menu."""

    class Menu(models.TextChoices):
        ADVANCE_CONTRACT = "1", "前払金保証・契約保証"
        ADVANCE_AFTER_CONTRACT = "2", "契約保証済の前払金保証"
        INTERMEDIATE = "3", "中間前払金保証"
        CHANGE = "5", "保証契約締結後の変更"

    class ChangeKind(models.TextChoices):
        """What a menu-5 application changes (the 変更契約). It decides the rules that apply
        and the documents issued."""

        INCREASE = "increase", "増額（請負代金額の増額・追加前払）"
        DECREASE = "decrease", "減額（請負代金額の減額）"
        PERIOD = "period", "保証期限変更（工期の延長・短縮）"
        CANCEL = "cancel", "解約"

    Status = ApplicationStatus
    Delivery = Delivery  # one vocabulary for the application and the guarantee

    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="applications", verbose_name="受注者"
    )
    work = models.ForeignKey(
        Work, on_delete=models.PROTECT, related_name="applications", verbose_name="工事"
    )
    menu = models.CharField("申込メニュー", max_length=1, choices=Menu.choices)
    status = models.CharField("状態", max_length=20, choices=Status.choices, default=Status.DRAFT)
    delivery = models.CharField(
        "保証証書の受取方法", max_length=20, choices=Delivery.choices, blank=True
    )
    terms_confirmed = models.BooleanField("電子保証用約款の使用を確認", default=False)
    advance_planned = models.BooleanField("前払金の請求予定あり", default=False)
    contact_name = models.CharField("ご担当者名", max_length=100, blank=True)
    contact_phone = models.CharField("ご担当者電話番号", max_length=20, blank=True)
    message = models.TextField("連絡事項", blank=True)
    # 中間前払金 (menu 3) only.
    certified_on = models.DateField("中間前金払認定日", null=True, blank=True)
    certification_number = models.CharField("中間前金払認定番号", max_length=50, blank=True)
    progress_percent = models.PositiveSmallIntegerField("既済出来高（%）", null=True, blank=True)
    partial_payment_requested = models.BooleanField("部分払の請求あり", default=False)
    # 保証契約締結後の変更 (menu 5) only.
    guarantee = models.ForeignKey(
        "certificates.Guarantee",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="change_applications",
        verbose_name="変更する保証契約",
    )
    change_kind = models.CharField(
        "変更の内容", max_length=20, choices=ChangeKind.choices, blank=True
    )
    new_price = models.PositiveBigIntegerField("変更後の請負代金額（円）", null=True, blank=True)
    change_contract_date = models.DateField("変更契約日", null=True, blank=True)
    new_end_date = models.DateField("変更後の工期（至）", null=True, blank=True)
    cancel_reason = models.TextField("解約の理由", blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="作成者"
    )
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    updated_at = models.DateTimeField("最終更新", default=timezone.now)
    submitted_at = models.DateTimeField("提出日時", null=True, blank=True)
    # The company's 承認者 who sent it (each submit, decision 0022).
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="承認者（送信者）",
    )
    # Set by the new-application form: a second POST of the same form finds the first.
    client_token = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "保証申込"
        verbose_name_plural = "保証申込"
        constraints = [
            models.UniqueConstraint(fields=["client_token"], name="application_client_token"),
            models.UniqueConstraint(
                fields=["work", "menu"],
                condition=models.Q(status__in=list(OPEN)) & ~models.Q(menu="5"),
                name="application_one_open_per_work_menu",
            ),
            # A change (menu 5) is per guarantee: one in progress at a time.
            models.UniqueConstraint(
                fields=["guarantee"],
                condition=models.Q(status__in=list(OPEN)) & models.Q(menu="5"),
                name="application_one_open_change_per_guarantee",
            ),
            models.CheckConstraint(
                condition=models.Q(progress_percent__isnull=True)
                | models.Q(progress_percent__lte=100),
                name="application_progress_percent",
            ),
        ]
        indexes = [
            # Menu 4's order (newest change first, then id): its 20 rows read in order
            # (decision 0056).
            models.Index(
                fields=["company", "-updated_at", "-id"], name="application_company_recent"
            ),
            models.Index(fields=["status", "submitted_at"], name="application_queue"),
        ]

    def __str__(self):
        return f"申込 #{self.pk} {self.work}"

    def can_move_to(self, status):
        """Whether the status table allows the move from the current status to `status`."""
        return status in ALLOWED.get(self.status, ())

    @property
    def is_editable(self):
        return self.status in EDITABLE

    @property
    def can_withdraw(self):
        return self.can_move_to(S.WITHDRAWN)


class ApplicationItem(models.Model):
    """One guarantee requested by an application: its kind and guaranteed amount (保証金額)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField("保証の種類", max_length=20, choices=GuaranteeKind.choices)
    amount = models.PositiveBigIntegerField("保証金額（円）", null=True, blank=True)

    class Meta:
        verbose_name = "申込保証"
        verbose_name_plural = "申込保証"
        ordering = ["application", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["application", "kind"], name="item_one_per_kind"),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gt=0),
                name="item_amount_positive",
            ),
        ]

    def __str__(self):
        return self.get_kind_display()


class StatusChange(StatusHistory):
    """Every move of an application: who, when, from what to what, and why. Never deleted."""

    statuses = Application.Status

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="status_changes"
    )

    class Meta(StatusHistory.Meta):
        verbose_name = "状態の履歴"
        verbose_name_plural = "状態の履歴"


class FeeTable(models.Model):
    """A staff-managed fee table (保証料率表) for one kind of guarantee, from a date on."""

    kind = models.CharField("保証の種類", max_length=20, choices=GuaranteeKind.choices)
    name = models.CharField("名称", max_length=100)
    valid_from = models.DateField("適用開始日")
    is_demo = models.BooleanField(
        "デモ用の料率", default=False, help_text="実際の料率表ではないことを画面に表示します。"
    )

    class Meta:
        verbose_name = "保証料率表"
        verbose_name_plural = "保証料率表"
        constraints = [
            models.UniqueConstraint(fields=["kind", "valid_from"], name="fee_table_one_per_day")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.name}"


class FeeBracket(models.Model):
    """One amount bracket: guaranteed amounts up to `up_to` yen pay `rate_ppm` per million,
    at least `minimum_fee` yen."""

    table = models.ForeignKey(FeeTable, on_delete=models.CASCADE, related_name="brackets")
    up_to = models.PositiveBigIntegerField(
        "保証金額の上限（円, 空欄は上限なし）", null=True, blank=True
    )
    rate_ppm = models.PositiveIntegerField("料率（100万分率, 650 = 0.065%）")
    minimum_fee = models.PositiveIntegerField("最低保証料（円）", default=0)

    class Meta:
        verbose_name = "料率区分"
        verbose_name_plural = "料率区分"
        ordering = ["table", models.F("up_to").asc(nulls_last=True)]
        constraints = [
            models.UniqueConstraint(fields=["table", "up_to"], name="fee_bracket_unique")
        ]

    def __str__(self):
        return f"〜{yen(self.up_to)}" if self.up_to else "上限なし"


class FeeReceipt(models.Model):
    """保証料入金: staff record the fee received; recording it concludes the application."""

    class Method(models.TextChoices):
        TRANSFER = "transfer", "銀行振込"
        DEBIT = "debit", "口座振替"
        COUNTER = "counter", "窓口"

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="fee_receipt"
    )
    received_on = models.DateField("入金日")
    amount = models.PositiveBigIntegerField("入金額（円）")
    expected_amount = models.PositiveBigIntegerField("計算上の保証料（円）")
    method = models.CharField("入金方法", max_length=20, choices=Method.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("記録日時", default=timezone.now)

    class Meta:
        verbose_name = "保証料入金"
        verbose_name_plural = "保証料入金"

    def __str__(self):
        return f"申込 #{self.application_id} {yen(self.amount)}"
