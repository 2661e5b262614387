"""保証金の請求: the orderer's claim on a guarantee after 契約解除 (issue 18, decision 0027).

An office user of the orderer files a claim for a 前払金保証 or a 契約保証 that reached their
office; surety staff ask for more documents, approve (with the amount) or refuse, and record
the payment. The amounts the orderer typed and the claimable amount computed from them
(claims.rules) are stored as they were at filing: a later rule change never rewrites a claim.
Status moves: claims.services.ALLOWED, through its one helper.

Depends on the registry (certificates) and accounts; nothing imports this app but the URLconf
and the staff console.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import OrdererOffice
from certificates.models import Guarantee
from esure.workflow import StatusHistory


class Claim(models.Model):
    """One claim (保証金の請求) on one guarantee. At most one per guarantee is alive: a refused
    claim may be followed by a new one, a paid one may not."""

    class Status(models.TextChoices):
        FILED = "filed", "受付（審査中）"
        MORE_DOCUMENTS_REQUESTED = "more_documents_requested", "書類の追加依頼"
        RESUBMITTED = "resubmitted", "書類の再提出（審査中）"
        APPROVED = "approved", "支払決定"
        PAID = "paid", "支払済"
        REFUSED = "refused", "お支払いできません"

    guarantee = models.ForeignKey(
        Guarantee, on_delete=models.PROTECT, related_name="claims", verbose_name="保証契約"
    )
    office = models.ForeignKey(
        OrdererOffice,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name="請求した発注機関",
    )
    status = models.CharField("状態", max_length=30, choices=Status.choices, default=Status.FILED)
    terminated_on = models.DateField("契約解除の日")
    termination_cause = models.TextField("契約解除の理由")
    # 前払金保証: what the orderer paid and what the completed part is worth (rules).
    advance_paid = models.PositiveBigIntegerField("支払済の前払金（円）", null=True, blank=True)
    progress_paid = models.PositiveBigIntegerField("支払済の出来形払（円）", null=True, blank=True)
    completed_value = models.PositiveBigIntegerField("既済部分の代価（円）", null=True, blank=True)
    # 契約保証: the 違約金 the orderer claims.
    penalty = models.PositiveBigIntegerField("請求する違約金（円）", null=True, blank=True)
    guaranteed_amount = models.PositiveBigIntegerField("保証金額（請求時, 円）")
    claimable = models.PositiveBigIntegerField("請求できる額（算定, 円）")
    working = models.JSONField("算定の式", default=list)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="請求者"
    )
    filed_at = models.DateTimeField("受付日時", default=timezone.now)
    due_on = models.DateField("支払期限")
    approved_amount = models.PositiveBigIntegerField("支払決定額（円）", null=True, blank=True)
    paid_on = models.DateField("支払日", null=True, blank=True)
    paid_amount = models.PositiveBigIntegerField("支払額（円）", null=True, blank=True)

    OPEN = (Status.FILED, Status.MORE_DOCUMENTS_REQUESTED, Status.RESUBMITTED, Status.APPROVED)
    # What waits for staff's decision (the console's queue, the list's first rows).
    UNDER_REVIEW = (Status.FILED, Status.RESUBMITTED)

    class Meta:
        verbose_name = "保証金の請求"
        verbose_name_plural = "保証金の請求"
        constraints = [
            models.UniqueConstraint(
                fields=["guarantee"],
                condition=~models.Q(status="refused"),
                name="claim_one_alive_per_guarantee",
            ),
            models.CheckConstraint(condition=models.Q(claimable__gt=0), name="claim_claimable"),
            models.CheckConstraint(
                condition=~models.Q(status__in=["approved", "paid"])
                | models.Q(approved_amount__gt=0),
                name="claim_approved_has_amount",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="paid")
                | models.Q(paid_on__isnull=False, paid_amount__gt=0),
                name="claim_paid_has_date_and_amount",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="claim_status_due")]

    def __str__(self):
        return f"保証金の請求 第{self.pk}号（{self.guarantee.number_display}）"


class ClaimStatusChange(StatusHistory):
    """One status move (old → new, who, when, and the message, note or reason that went with
    it): the history the status helper writes. Filing is the first row (old empty)."""

    statuses = Claim.Status

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = "請求の経過"
        verbose_name_plural = "請求の経過"

    def __str__(self):
        return f"{self.claim}: {super().__str__()}"


class Attachment(models.Model):
    """A document of a claim (PDF or JPEG, checked by its bytes), stored through the storage
    API with its SHA-256 and served only through an access check (never a public URL)."""

    class Kind(models.TextChoices):
        TERMINATION_NOTICE = "termination_notice", "契約解除の通知"
        INSPECTION_RECORD = "inspection_record", "出来形検査調書"
        ADDITIONAL = "additional", "追加書類"

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField("種類", max_length=30, choices=Kind.choices)
    file = models.FileField("ファイル", upload_to="claims/%Y/%m/")
    name = models.CharField("ファイル名", max_length=200)
    content_type = models.CharField("形式", max_length=50)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveIntegerField("バイト数")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="登録者"
    )
    uploaded_at = models.DateTimeField("登録日時", default=timezone.now)

    class Meta:
        verbose_name = "請求の添付書類"
        verbose_name_plural = "請求の添付書類"
        ordering = ["claim", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.name}"
