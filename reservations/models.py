"""契約保証予約 (reservation of a contract guarantee, decision 0034): applied for online before
a bid, reviewed by staff, its 予約証書 printed on paper only, turned into a menu-1 application
after the award."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Branch, Company, JointVenture, Orderer
from esure.workflow import StatusHistory, by_field


class ReservationStatus(models.TextChoices):
    DRAFT = "draft", "保存中"
    SUBMITTED = "submitted", "手続き中"
    APPROVED = "approved", "予約済（有効）"
    DECLINED = "declined", "謝絶"
    USED = "used", "使用済"
    LAPSED = "lapsed", "期限切れ"


S = ReservationStatus

# The one status table of reservations (STYLE.md "Status changes"): from each status, the
# statuses it may move to; a status without a row is final. reservations.services._transition
# is the one writer of a status and checks this table.
ALLOWED = {
    S.DRAFT: {S.SUBMITTED},
    S.SUBMITTED: {S.APPROVED, S.DECLINED},
    S.APPROVED: {S.USED, S.LAPSED},
    # Its application was withdrawn or declined: given back (services.give_back, decision
    # 0041); past its validity it then lapses at once (approved → lapsed).
    S.USED: {S.APPROVED},
}


class Reservation(models.Model):
    """One 契約保証予約 of a company for one bid: the orderer, the 工事名, the 入札日, the
    estimated 請負代金額 and the 保証金額 reserved. Staff record the 予約手数料 and the last
    day it may be used (`valid_until`)."""

    Status = ReservationStatus

    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="reservations", verbose_name="受注者"
    )
    # As in menu 1: the contracting office (empty = 本店) and the JV (empty = the company).
    branch = models.ForeignKey(
        Branch,
        on_delete=models.PROTECT,
        related_name="reservations",
        null=True,
        blank=True,
        verbose_name="契約営業所",
    )
    joint_venture = models.ForeignKey(
        JointVenture,
        on_delete=models.PROTECT,
        related_name="reservations",
        null=True,
        blank=True,
        verbose_name="共同企業体",
    )
    orderer = models.ForeignKey(
        Orderer,
        on_delete=models.PROTECT,
        related_name="reservations",
        null=True,
        blank=True,
        verbose_name="発注者",
    )
    work_name = models.CharField("工事名", max_length=200, blank=True)
    bid_date = models.DateField("入札日", null=True, blank=True)
    estimated_price = models.PositiveBigIntegerField(
        "請負代金額の見込み（円）", null=True, blank=True
    )
    amount = models.PositiveBigIntegerField("予約する保証金額（円）", null=True, blank=True)
    advance_planned = models.BooleanField("前払金の支払いが予定されている工事", default=False)
    contact_name = models.CharField("ご担当者名", max_length=100, blank=True)
    contact_phone = models.CharField("ご担当者電話番号", max_length=20, blank=True)

    status = models.CharField("状態", max_length=20, choices=S.choices, default=S.DRAFT)
    fee = models.PositiveBigIntegerField("予約手数料（円）", null=True, blank=True)
    valid_until = models.DateField("有効期限", null=True, blank=True)
    decline_reason = models.TextField("謝絶の理由", blank=True)
    printed_at = models.DateTimeField("予約証書の印刷日時", null=True, blank=True)
    # The menu-1 application it became (使用済).
    application = models.OneToOneField(
        "applications.Application",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reservation",
        verbose_name="作成した申込",
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="作成者"
    )
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    updated_at = models.DateTimeField("最終更新", default=timezone.now)
    submitted_at = models.DateTimeField("提出日時", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="承認者（送信者）",
    )
    approved_at = models.DateTimeField("承認日時", null=True, blank=True)

    class Meta:
        verbose_name = "契約保証予約"
        verbose_name_plural = "契約保証予約"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gt=0),
                name="reservation_amount_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(estimated_price__isnull=True) | models.Q(estimated_price__gt=0),
                name="reservation_price_positive",
            ),
            # Approved (and what follows) always has its fee and its last day.
            models.CheckConstraint(
                condition=~models.Q(status__in=["approved", "used", "lapsed"])
                | (models.Q(fee__isnull=False) & models.Q(valid_until__isnull=False)),
                name="reservation_approved_terms",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "-updated_at"], name="reservation_company_recent"),
            models.Index(fields=["status", "valid_until"], name="reservation_status_until"),
        ]

    def __str__(self):
        return f"契約保証予約 {self.number_display} {self.work_name}".strip()

    @property
    def number_display(self):
        """予約番号 as printed: Y- and six digits of the row id (Y for 予約)."""
        return f"Y-{self.pk:06d}" if self.pk else "Y-（未採番）"

    def can_move_to(self, status):
        return status in ALLOWED.get(self.status, ())

    @property
    def is_editable(self):
        return self.status == S.DRAFT

    def has_expired_on(self, day):
        """Approved but past its last day: 期限切れ at once, before the daily command records
        it (`manage.py lapse_reservations`). Valid through valid_until itself."""
        return self.status == S.APPROVED and self.valid_until is not None and day > self.valid_until

    def status_on(self, day):
        """The status as people read it on `day`: 期限切れ from the day after valid_until."""
        return S.LAPSED if self.has_expired_on(day) else S(self.status)


class ReservationStatusChange(StatusHistory):
    """Every move of a reservation: who (None: the daily lapse command), when, why."""

    statuses = ReservationStatus

    reservation = models.ForeignKey(
        Reservation, on_delete=models.PROTECT, related_name="status_changes"
    )
    by = by_field(null=True)

    class Meta(StatusHistory.Meta):
        verbose_name = "予約の状態の履歴"
        verbose_name_plural = "予約の状態の履歴"
