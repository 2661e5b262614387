"""The registry: works (工事請負契約) and, from issuance on, guarantees and their certificates.

Never imports `applications` or `dsure` (DESIGN.md §8).
"""

from django.db import models
from django.utils import timezone

from accounts.models import Company, Orderer, OrdererOffice
from esure.choices import ContractMethod, WorkCategory


class Work(models.Model):
    """The construction contract (工事請負契約) a guarantee is for.

    Fields may be empty while the clerk's application is a draft (保存中); submitting an
    application requires them complete (applications.rules / forms).
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="works")
    orderer = models.ForeignKey(
        Orderer, on_delete=models.PROTECT, related_name="works", null=True, blank=True
    )
    office = models.ForeignKey(
        OrdererOffice, on_delete=models.PROTECT, related_name="works", null=True, blank=True
    )
    work_number = models.CharField("工事番号", max_length=50, blank=True)
    name = models.CharField("工事名", max_length=200, blank=True)
    location = models.CharField("工事場所", max_length=200, blank=True)
    category = models.CharField(
        "工事の区分", max_length=20, choices=WorkCategory.choices, blank=True
    )
    contract_method = models.CharField(
        "契約方法", max_length=20, choices=ContractMethod.choices, blank=True
    )
    price = models.PositiveBigIntegerField("請負代金額（円）", null=True, blank=True)
    contract_date = models.DateField("契約日", null=True, blank=True)
    contract_date_planned = models.BooleanField("契約日は予定", default=False)
    start_date = models.DateField("工期（自）", null=True, blank=True)
    end_date = models.DateField("工期（至）", null=True, blank=True)
    low_bid = models.BooleanField("低入札価格調査の対象", default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "工事請負契約"
        verbose_name_plural = "工事請負契約"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__isnull=True) | models.Q(price__gt=0),
                name="work_price_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(start_date__isnull=True)
                | models.Q(end_date__isnull=True)
                | models.Q(start_date__lte=models.F("end_date")),
                name="work_period_ordered",
            ),
        ]
        indexes = [models.Index(fields=["company", "-created_at"], name="work_company_recent")]

    def __str__(self):
        return self.name or f"工事 #{self.pk}"
