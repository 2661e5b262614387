"""The registry: works (工事請負契約) and, from issuance on, guarantees and their certificates.

Never imports `applications` or `dsure` (DESIGN.md §8).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Branch, Company, Orderer, OrdererOffice
from certificates.numbering import format_number
from esure.choices import ContractMethod, Delivery, GuaranteeKind, WorkCategory
from esure.wareki import yen
from esure.workflow import StatusHistory, by_field


class Work(models.Model):
    """The construction contract (工事請負契約) a guarantee is for.

    Fields may be empty while the clerk's application is a draft (保存中); submitting an
    application requires them complete (applications.rules / forms).
    """

    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="works", verbose_name="受注者"
    )
    orderer = models.ForeignKey(
        Orderer,
        on_delete=models.PROTECT,
        related_name="works",
        null=True,
        blank=True,
        verbose_name="発注者",
    )
    office = models.ForeignKey(
        OrdererOffice,
        on_delete=models.PROTECT,
        related_name="works",
        null=True,
        blank=True,
        verbose_name="発注機関",
    )
    # The contracting office (契約営業所): the certificate names it and its 受任者 as
    # 保証契約者; none means the head office and the representative.
    branch = models.ForeignKey(
        Branch,
        on_delete=models.PROTECT,
        related_name="works",
        null=True,
        blank=True,
        verbose_name="契約営業所",
    )
    # A 共同企業体 contracting the work (its 代表者 is `company`); the limits apply to the
    # JV's contract as a whole, i.e. to `price`.
    joint_venture = models.ForeignKey(
        "accounts.JointVenture",
        on_delete=models.PROTECT,
        related_name="works",
        null=True,
        blank=True,
        verbose_name="共同企業体",
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
    created_at = models.DateTimeField("登録日時", default=timezone.now)

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
        indexes = [
            models.Index(fields=["company", "-created_at"], name="work_company_recent"),
            # The orderers of a company's works (menu 4's filter) read from the index alone.
            models.Index(fields=["company", "orderer"], name="work_company_orderers"),
        ]

    def __str__(self):
        return self.name or f"工事 #{self.pk}"


class NumberCounter(models.Model):
    """The last serial given per 年度 and kind digit: a locked row, so 保証契約番号 are
    gapless and unique (allocated inside the conclusion transaction, rolled back with it)."""

    fiscal_year = models.PositiveSmallIntegerField("年度（令和）")
    kind_digit = models.PositiveSmallIntegerField("種類")
    last_serial = models.PositiveIntegerField("最終連番", default=0)

    class Meta:
        verbose_name = "保証契約番号の採番"
        verbose_name_plural = "保証契約番号の採番"
        constraints = [
            models.UniqueConstraint(fields=["fiscal_year", "kind_digit"], name="counter_unique")
        ]

    def __str__(self):
        return f"令和{self.fiscal_year}年度 種類{self.kind_digit}: {self.last_serial}"


class Guarantee(models.Model):
    """A concluded guarantee (保証契約). Its current content is that of its latest
    Certificate version: nothing here copies amounts or dates, so nothing can drift."""

    Delivery = Delivery  # one vocabulary for the application and the guarantee

    number = models.CharField("保証契約番号", max_length=11)
    kind = models.CharField("保証の種類", max_length=20, choices=GuaranteeKind.choices)
    # No index of its own: guarantee_company_recent starts with company.
    company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="guarantees",
        db_index=False,
        verbose_name="受注者",
    )
    work = models.ForeignKey(
        Work, on_delete=models.PROTECT, related_name="guarantees", verbose_name="工事"
    )
    orderer = models.ForeignKey(
        Orderer, on_delete=models.PROTECT, related_name="guarantees", verbose_name="発注者"
    )
    office = models.ForeignKey(
        OrdererOffice,
        on_delete=models.PROTECT,
        related_name="guarantees",
        null=True,
        verbose_name="発注機関",
    )
    delivery = models.CharField("受取方法", max_length=20, choices=Delivery.choices)
    # 0: no key (書面交付). Re-issue adds one: the old key stops verifying at once.
    key_version = models.PositiveSmallIntegerField("認証キーの版", default=0)
    # Random, per guarantee, part of every key's derivation (certificates.keys): a number
    # issued again after a lossy restore gets other keys. Empty for guarantees concluded
    # before salts existed: they keep the keys already handed out.
    key_salt = models.CharField("認証キーのソルト", max_length=32, blank=True, default="")
    concluded_at = models.DateTimeField("締結日時", default=timezone.now)
    cancelled_at = models.DateTimeField("解約日時", null=True, blank=True)
    printed_at = models.DateTimeField("書面の印刷日時", null=True, blank=True)
    # 閲覧済 for the contractor: the orderer first opened it (key or office account).
    first_viewed_at = models.DateTimeField("発注者の初回閲覧日時", null=True, blank=True)
    # 完成 (decision 0026): the day of the 完成検査 / 引渡し, recorded once by an office user of
    # the orderer or by surety staff on the orderer's written notice. The guarantee is 完了
    # from then on (selectors.status_of); a 契約保証 ends by the same record.
    completed_on = models.DateField("完成日（完成検査・引渡し）", null=True, blank=True)
    completed_at = models.DateTimeField("完成の記録日時", null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="完成を記録した利用者",
    )
    # The office whose user recorded it; none: surety staff did, on the orderer's notice.
    completed_office = models.ForeignKey(
        OrdererOffice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="完成を記録した発注機関",
    )
    # A database default too: bulk loaders (bench/generate.py COPY) name the columns they fill.
    completion_note = models.TextField(
        "完成の記録のメモ（発注者の通知書の日付等）", blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = "保証契約"
        verbose_name_plural = "保証契約"
        # Re-issuing a key kills the one the city holds: its own permission (decision 0009).
        permissions = [
            ("reissue_key", "認証キーを再発行できる"),
            # 完成 on the orderer's written notice ends the guarantee (decision 0026).
            ("record_completion", "完成を記録できる"),
        ]
        constraints = [
            # A UniqueConstraint, not unique=True: no extra _like index (DESIGN.md §10).
            models.UniqueConstraint(fields=["number"], name="guarantee_number_unique"),
            models.CheckConstraint(
                condition=models.Q(number__regex=r"^[0-9]{11}$"), name="guarantee_number_format"
            ),
            models.UniqueConstraint(
                fields=["work", "kind"], name="guarantee_one_per_work_and_kind"
            ),
            models.CheckConstraint(
                condition=models.Q(delivery="paper", key_version=0)
                | models.Q(delivery="electronic", key_version__gte=1),
                name="guarantee_key_only_when_electronic",
            ),
            # 完成 is recorded with its day and time together, and never on a cancelled one.
            models.CheckConstraint(
                condition=models.Q(completed_on__isnull=True, completed_at__isnull=True)
                | models.Q(
                    completed_on__isnull=False,
                    completed_at__isnull=False,
                    cancelled_at__isnull=True,
                ),
                name="guarantee_completion_recorded_whole",
            ),
        ]
        # The contractor's list, newest first, a page at a time: read in index order and
        # stopped after one page, so the current-version subqueries run for that page only
        # (0.89 → 0.20 ms at 500 guarantees, bench/README.md). -id breaks ties as the list does.
        indexes = [
            models.Index(
                fields=["company", "-concluded_at", "-id"], name="guarantee_company_recent"
            )
        ]

    def __str__(self):
        return f"{format_number(self.number)} {self.get_kind_display()}"

    @property
    def number_display(self):
        return format_number(self.number)

    @property
    def has_key(self):
        return self.key_version > 0

    @property
    def is_completed(self):
        return self.completed_on is not None


class Certificate(models.Model):
    """One immutable version of a guarantee's content (電子証書): v1 当初, v2… 変更.

    Never updated or deleted (PostgreSQL trigger in migration 0003; no code path or admin
    form writes an existing row). `content` is the canonical JSON the PDF shows and
    `fingerprint` its SHA-256.
    """

    guarantee = models.ForeignKey(
        Guarantee, on_delete=models.PROTECT, related_name="certificates", verbose_name="保証契約"
    )
    version = models.PositiveSmallIntegerField("版")
    content = models.JSONField("内容")
    fingerprint = models.CharField("内容の指紋（SHA-256）", max_length=64)
    amount = models.PositiveBigIntegerField("保証金額（円）")
    starts_on = models.DateField("保証期間（自）")
    ends_on = models.DateField("保証期限")
    issued_at = models.DateTimeField("発行日時")
    change_summary = models.CharField("変更内容", max_length=200, blank=True)

    class Meta:
        verbose_name = "電子証書"
        verbose_name_plural = "電子証書"
        ordering = ["guarantee", "version"]
        constraints = [
            models.UniqueConstraint(fields=["guarantee", "version"], name="certificate_version")
        ]
        # 電子証書の検証 finds a version by the fingerprint a printout's QR code carries.
        indexes = [models.Index(fields=["fingerprint"], name="certificate_fingerprint")]

    def __str__(self):
        return f"{self.guarantee} 第{self.version}版"

    def save(self, *args, **kwargs):
        # An immutable original: the only write is the first insert.
        if not self._state.adding:
            raise ValueError("a certificate version is immutable")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)


class Document(models.Model):
    """A PDF rendered and signed once at issuance and served as stored (its bytes are the
    original). A document timestamp added later (PAdES B-LTA, manage.py extend_timestamps)
    makes a new record that `extends` the previous one: the old bytes and hash stay, the
    newest record of a (certificate, kind) is the one served."""

    class Kind(models.TextChoices):
        CERTIFICATE = "certificate", "保証証書"
        CUSTOMER_COPY = "customer_copy", "お客様控え"
        FEE_STATEMENT = "fee_statement", "保証料計算書"

    certificate = models.ForeignKey(
        Certificate, on_delete=models.PROTECT, related_name="documents", verbose_name="電子証書"
    )
    kind = models.CharField("種類", max_length=20, choices=Kind.choices)
    file = models.FileField("PDF", upload_to="documents/%Y/%m/")
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveIntegerField("バイト数")
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    extends = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="extension",
        verbose_name="タイムスタンプ延長前のPDF",
    )

    class Meta:
        verbose_name = "電子証書のPDF"
        verbose_name_plural = "電子証書のPDF"
        constraints = [
            # One original per version and kind; its extensions each extend one record.
            models.UniqueConstraint(
                fields=["certificate", "kind"],
                condition=models.Q(extends__isnull=True),
                name="document_unique",
            )
        ]

    def __str__(self):
        return f"{self.certificate} {self.get_kind_display()}"


class KeyDisplay(models.Model):
    """The contractor displayed (or downloaded) the 認証キー: who and when. Never the key."""

    class Via(models.TextChoices):
        SCREEN = "screen", "画面表示"
        KEY_NOTICE = "key_notice", "お知らせPDF"

    guarantee = models.ForeignKey(
        Guarantee, on_delete=models.PROTECT, related_name="+", verbose_name="保証契約"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="表示した利用者",
    )
    via = models.CharField("表示の経路", max_length=20, choices=Via.choices)
    key_version = models.PositiveSmallIntegerField("認証キーの版")
    at = models.DateTimeField("日時", default=timezone.now)

    class Meta:
        verbose_name = "認証キーの表示記録"
        verbose_name_plural = "認証キーの表示記録"
        indexes = [models.Index(fields=["guarantee", "-at"], name="keydisplay_guarantee")]

    def __str__(self):
        return f"{self.guarantee} {self.get_via_display()} {self.at:%Y-%m-%d %H:%M}"


class KeyReissue(models.Model):
    """Staff re-issued the key (the old one stopped working at that moment)."""

    guarantee = models.ForeignKey(
        Guarantee, on_delete=models.PROTECT, related_name="+", verbose_name="保証契約"
    )
    new_version = models.PositiveSmallIntegerField("新しい認証キーの版")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="再発行者",
    )
    reason = models.TextField("理由", blank=True)
    at = models.DateTimeField("日時", default=timezone.now)

    class Meta:
        verbose_name = "認証キーの再発行"
        verbose_name_plural = "認証キーの再発行"

    def __str__(self):
        return f"{self.guarantee} → 第{self.new_version}版"


class Submission(models.Model):
    """提出: one certificate version in an orderer office's hands (decision 0018).

    esure delivers it to the office's 受信箱 at conclusion and at each later version where
    the orderer's policy says so (INBOX), the contractor hands it over (HANDOVER), or an
    office user opened it with the key and then answered (KEY). The office records 受領 or
    返戻 (with a reason) once: the row moves along SUBMISSION_ALLOWED and each move leaves a
    SubmissionEvent. A new version is a new row (delivered again), never a reopened one.
    """

    class Channel(models.TextChoices):
        INBOX = "inbox", "受信箱へ自動交付"
        HANDOVER = "handover", "受注者が電子提出"
        KEY = "key", "認証キーで閲覧"

    class Status(models.TextChoices):
        DELIVERED = "delivered", "未受領"
        RECEIVED = "received", "受領"
        RETURNED = "returned", "返戻"

    guarantee = models.ForeignKey(
        Guarantee, on_delete=models.PROTECT, related_name="submissions", verbose_name="保証契約"
    )
    certificate = models.ForeignKey(
        Certificate, on_delete=models.PROTECT, related_name="submissions", verbose_name="電子証書"
    )
    office = models.ForeignKey(
        OrdererOffice, on_delete=models.PROTECT, related_name="submissions", verbose_name="提出先"
    )
    channel = models.CharField("提出の方法", max_length=20, choices=Channel.choices)
    status = models.CharField(
        "状態", max_length=20, choices=Status.choices, default=Status.DELIVERED
    )
    delivered_at = models.DateTimeField("提出日時", default=timezone.now)
    # None: esure delivered it at conclusion (no person did).
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="提出者",
    )
    note = models.TextField("連絡事項", blank=True)
    viewed_at = models.DateTimeField("初回閲覧日時", null=True, blank=True)
    decided_at = models.DateTimeField("受領・返戻日時", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="受領・返戻した利用者",
    )
    reason = models.TextField("返戻の理由・受領のメモ", blank=True)

    class Meta:
        verbose_name = "提出（発注機関への交付）"
        verbose_name_plural = "提出（発注機関への交付）"
        constraints = [
            models.UniqueConstraint(fields=["certificate", "office"], name="submission_once"),
            models.CheckConstraint(
                condition=models.Q(status="delivered", decided_at__isnull=True)
                | (~models.Q(status="delivered") & models.Q(decided_at__isnull=False)),
                name="submission_decided_when_answered",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="returned") | ~models.Q(reason=""),
                name="submission_return_has_reason",
            ),
        ]
        indexes = [
            # The office's list: what reached it, newest first.
            models.Index(fields=["office", "-delivered_at"], name="submission_office_recent"),
            models.Index(fields=["guarantee", "office"], name="submission_guarantee_office"),
        ]

    def __str__(self):
        return f"{self.certificate} → {self.office}（{self.get_status_display()}）"


S = Submission.Status
# The one status table of a submission: 受領 and 返戻 are answers, given once per version; a
# new version is delivered as a new submission.
SUBMISSION_ALLOWED = {
    S.DELIVERED: {S.RECEIVED, S.RETURNED},
    S.RECEIVED: set(),
    S.RETURNED: set(),
}


class SubmissionEvent(StatusHistory):
    """Every move of a submission: delivered (old status empty), 受領, 返戻 — who (None: esure
    delivered it, or the office's system answered), when, why."""

    statuses = Submission.Status

    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, related_name="events", verbose_name="提出"
    )
    by = by_field(null=True)

    class Meta(StatusHistory.Meta):
        verbose_name = "提出の履歴"
        verbose_name_plural = "提出の履歴"

    def __str__(self):
        return f"{self.submission}: {super().__str__()}"


class OfficeAlert(models.Model):
    """お知らせ to an office about a guarantee in its list: a new version, a cancellation, its
    完成, or its 保証期限 within ESURE_EXPIRY_ALERT_DAYS. One per (office, guarantee, kind,
    subject) — the subject is the version, the 完成日 or the period end — so the daily expiry
    run may repeat without a second mail. Each of the office's users sees a badge until they
    open the guarantee."""

    class Kind(models.TextChoices):
        NEW_VERSION = "new_version", "変更"
        CANCELLED = "cancelled", "解約"
        EXPIRING = "expiring", "期限間近"
        COMPLETED = "completed", "完成"

    office = models.ForeignKey(
        OrdererOffice, on_delete=models.PROTECT, related_name="alerts", verbose_name="発注機関"
    )
    guarantee = models.ForeignKey(
        Guarantee, on_delete=models.PROTECT, related_name="office_alerts", verbose_name="保証契約"
    )
    kind = models.CharField("種類", max_length=20, choices=Kind.choices)
    subject = models.CharField("対象（版・期限）", max_length=20)
    at = models.DateTimeField("日時", default=timezone.now)

    class Meta:
        verbose_name = "発注機関へのお知らせ"
        verbose_name_plural = "発注機関へのお知らせ"
        constraints = [
            models.UniqueConstraint(
                fields=["office", "guarantee", "kind", "subject"], name="office_alert_once"
            )
        ]
        indexes = [models.Index(fields=["office", "guarantee", "-at"], name="office_alert_recent")]

    def __str__(self):
        return f"{self.office} {self.guarantee} {self.get_kind_display()}"


class OfficeAlertSeen(models.Model):
    """A user of the office opened the guarantee after the alert: no badge for them."""

    alert = models.ForeignKey(
        OfficeAlert, on_delete=models.CASCADE, related_name="seen", verbose_name="お知らせ"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="利用者"
    )
    at = models.DateTimeField("確認日時", default=timezone.now)

    class Meta:
        verbose_name = "お知らせの確認"
        verbose_name_plural = "お知らせの確認"
        constraints = [
            models.UniqueConstraint(fields=["alert", "user"], name="office_alert_seen_once")
        ]

    def __str__(self):
        return f"{self.alert} ✓ {self.user}"


class Refund(models.Model):
    """前払金の返還 after a 減額 (decision 0026): the 請負代金額 of a work with a 前払金保証 was
    reduced and the advance received exceeds the share of the new price it may keep
    (certificates.rules.refund_excess), so the contractor returns the excess to the orderer
    by `due_on`. Made with the 減額 version (applications concludes it); the orderer's office
    records the day it was returned. The amounts are frozen as computed at the reduction."""

    guarantee = models.ForeignKey(
        Guarantee, on_delete=models.PROTECT, related_name="refunds", verbose_name="前払金保証"
    )
    certificate = models.OneToOneField(
        Certificate,
        on_delete=models.PROTECT,
        related_name="refund",
        verbose_name="減額の電子証書（版）",
    )
    received = models.PositiveBigIntegerField("受領前払金（円）")
    new_price = models.PositiveBigIntegerField("減額後の請負代金額（円）")
    rate_tenths = models.PositiveSmallIntegerField("保持できる割合（10分の）")
    amount = models.PositiveBigIntegerField("返還額（超過額、円）")
    reduced_on = models.DateField("減額の日（変更契約日）")
    due_on = models.DateField("返還期限")
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    returned_on = models.DateField("返還日", null=True, blank=True)
    recorded_at = models.DateTimeField("返還の記録日時", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="返還を記録した利用者",
    )
    recorded_office = models.ForeignKey(
        OrdererOffice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="返還を記録した発注機関",
    )
    note = models.TextField("メモ", blank=True)

    class Meta:
        verbose_name = "前払金の返還（減額）"
        verbose_name_plural = "前払金の返還（減額）"
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(returned_on__isnull=True, recorded_at__isnull=True)
                | models.Q(returned_on__isnull=False, recorded_at__isnull=False),
                name="refund_return_recorded_whole",
            ),
        ]
        indexes = [models.Index(fields=["guarantee", "-created_at"], name="refund_guarantee")]
        permissions = [
            # Staff record the return when it is reported to them (decision 0041).
            ("record_refund_return", "前払金の返還を記録できる"),
        ]

    def __str__(self):
        return f"{self.guarantee} 返還 {yen(self.amount)}"

    def is_overdue(self, today):
        return self.returned_on is None and self.due_on < today
