"""The console's records: bank statements read for fee receipts (decision 0021)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from applications.models import Application, FeeReceipt
from esure.wareki import yen


class StatementImport(models.Model):
    """入出金明細の取込: one statement file of the surety's fee account (全銀協 入出金取引明細,
    applications.zengin). Its SHA-256 is unique: the same file twice is refused."""

    name = models.CharField("ファイル名", max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64)
    account = models.CharField("口座（銀行・支店・口座番号）", max_length=40)
    period_from = models.DateField("勘定日（自）")
    period_to = models.DateField("勘定日（至）")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="取込者"
    )
    imported_at = models.DateTimeField("取込日時", default=timezone.now)

    class Meta:
        verbose_name = "入出金明細の取込"
        verbose_name_plural = "入出金明細の取込"
        constraints = [models.UniqueConstraint(fields=["sha256"], name="statement_import_once")]

    def __str__(self):
        return f"{self.name}（{self.account}）"


class StatementCredit(models.Model):
    """One credit (入金) of an imported statement and what esure made of it: the one
    application it matches (照合済), none, several, or a credit imported before."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", "照合済（締結待ち）"
        CONCLUDED = "concluded", "締結済"
        UNMATCHED = "unmatched", "該当なし"
        AMBIGUOUS = "ambiguous", "候補が複数"
        REPEATED = "repeated", "取込済の入金"

    statement = models.ForeignKey(
        StatementImport, on_delete=models.PROTECT, related_name="credits", verbose_name="取込"
    )
    line = models.PositiveIntegerField("行")
    # The bank's account and 照会番号 on the 勘定日 (zengin.Statement.identity).
    identity = models.CharField("取引の識別", max_length=80)
    booked_on = models.DateField("勘定日")
    amount = models.PositiveBigIntegerField("入金額（円）")
    sender = models.CharField("振込依頼人名", max_length=48, blank=True)
    outcome = models.CharField("照合結果", max_length=20, choices=Outcome.choices)
    note = models.CharField("説明", max_length=200, blank=True)
    candidates = models.JSONField("候補の申込番号", default=list, blank=True)
    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_credits",
        verbose_name="照合した申込",
    )
    fee_receipt = models.OneToOneField(
        FeeReceipt,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_credit",
        verbose_name="保証料入金",
    )

    class Meta:
        verbose_name = "入出金明細の入金"
        verbose_name_plural = "入出金明細の入金"
        ordering = ["statement", "line"]
        constraints = [
            # A credit is read once: a later file that repeats it keeps it as 取込済.
            models.UniqueConstraint(
                fields=["identity"],
                condition=~models.Q(outcome="repeated"),
                name="statement_credit_once",
            ),
        ]

    def __str__(self):
        return f"{self.booked_on} {yen(self.amount)} {self.sender}"
