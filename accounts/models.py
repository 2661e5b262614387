"""Users, contractor companies (受注者) and orderers (発注者) with their offices and policies."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from esure.choices import GuaranteeKind, SubmissionChannel
from esure.workflow import StatusHistory


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **fields):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an e-mail address: a contractor's clerk or surety staff."""

    email = models.EmailField("メールアドレス")
    name = models.CharField("氏名", max_length=100, blank=True)
    is_staff = models.BooleanField("保証会社職員", default=False)
    is_active = models.BooleanField("有効", default=True)
    date_joined = models.DateTimeField("登録日時", default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        verbose_name = "利用者"
        verbose_name_plural = "利用者"
        constraints = [
            models.UniqueConstraint(fields=["email"], name="user_email_unique"),
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return self.name or self.email


class Company(models.Model):
    """A contractor (受注者, 保証契約者). Its members may apply once staff have verified it."""

    class Status(models.TextChoices):
        PENDING = "pending", "確認待ち"
        VERIFIED = "verified", "確認済"
        SUSPENDED = "suspended", "利用停止"

    corporate_number = models.CharField("法人番号", max_length=13)
    name = models.CharField("商号", max_length=200)
    name_kana = models.CharField("商号フリガナ", max_length=200)
    representative_title = models.CharField("代表者役職", max_length=50)
    representative_name = models.CharField("代表者氏名", max_length=100)
    postal_code = models.CharField("郵便番号", max_length=8)
    address = models.CharField("所在地", max_length=300)
    phone = models.CharField("電話番号", max_length=20)
    license_number = models.CharField("建設業許可番号", max_length=60)
    status = models.CharField("状態", max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField("登録日時", default=timezone.now)
    verified_at = models.DateTimeField("確認日時", null=True, blank=True)

    class Meta:
        verbose_name = "受注者（会社）"
        verbose_name_plural = "受注者（会社）"
        constraints = [
            models.UniqueConstraint(fields=["corporate_number"], name="company_corporate_number"),
            models.CheckConstraint(
                condition=models.Q(corporate_number__regex=r"^[0-9]{13}$"),
                name="company_corporate_number_13_digits",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_verified(self):
        return self.status == self.Status.VERIFIED


class Branch(models.Model):
    """A branch office (支店・営業所) through which the company bids and contracts, with its
    受任者: the manager to whom the representative delegated the power to contract. An
    application may name one as the contracting office; the certificate then names it and
    its 受任者 as 保証契約者 (a snapshot at issuance, so later edits change no certificate)."""

    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="branches", verbose_name="受注者"
    )
    name = models.CharField("支店・営業所名", max_length=100, help_text="例: 大分支店")
    postal_code = models.CharField("郵便番号", max_length=8, blank=True)
    address = models.CharField("所在地", max_length=300)
    agent_title = models.CharField("受任者役職", max_length=50, help_text="例: 支店長")
    agent_name = models.CharField("受任者氏名", max_length=100)
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    class Meta:
        verbose_name = "支店・営業所"
        verbose_name_plural = "支店・営業所"
        ordering = ["company", "name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="branch_unique_name")
        ]

    def __str__(self):
        return f"{self.name}（受任者 {self.agent}）"

    @property
    def agent(self):
        return f"{self.agent_title} {self.agent_name}"


class JointVenture(models.Model):
    """A 共同企業体 (JV) of verified companies that contracts one work (特定) or works in
    general (経常) as one 保証契約者. Its 代表者 (the representative company) applies; the
    other members see its guarantees read-only (decision 0023)."""

    class Kind(models.TextChoices):
        SPECIFIC = "specific", "特定建設工事共同企業体"
        REGULAR = "regular", "経常建設共同企業体"

    class AdvanceDeposit(models.TextChoices):
        """How a 前払金 is deposited (the advances use it)."""

        REPRESENTATIVE = "representative", "代表者名義の口座に一括して預託"
        SPLIT = "split", "構成員ごとに出資比率で分割して預託"

    name = models.CharField("共同企業体の名称", max_length=200)
    kind = models.CharField("種類", max_length=20, choices=Kind.choices)
    representative = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="led_joint_ventures",
        verbose_name="代表者",
    )
    advance_deposit = models.CharField(
        "前払金の預託方法",
        max_length=20,
        choices=AdvanceDeposit.choices,
        default=AdvanceDeposit.REPRESENTATIVE,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="登録者"
    )
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    class Meta:
        verbose_name = "共同企業体"
        verbose_name_plural = "共同企業体"
        constraints = [
            models.UniqueConstraint(
                fields=["representative", "name"], name="joint_venture_unique_name"
            )
        ]

    def __str__(self):
        return self.name


class JointVentureMember(models.Model):
    """A member (構成員) of a JV with its 出資比率 in percent, one decimal (60.0); the
    representative is a member too. The shares add up to exactly 100 (accounts.validators)."""

    joint_venture = models.ForeignKey(
        JointVenture, on_delete=models.PROTECT, related_name="members", verbose_name="共同企業体"
    )
    company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        related_name="joint_venture_memberships",
        verbose_name="構成員",
    )
    share = models.DecimalField("出資比率（%）", max_digits=4, decimal_places=1)
    position = models.PositiveSmallIntegerField("順序", default=0)

    class Meta:
        verbose_name = "共同企業体の構成員"
        verbose_name_plural = "共同企業体の構成員"
        ordering = ["joint_venture", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["joint_venture", "company"], name="joint_venture_member_once"
            ),
            models.CheckConstraint(
                condition=models.Q(share__gt=0) & models.Q(share__lt=100),
                name="joint_venture_share_percent",
            ),
        ]

    def __str__(self):
        return f"{self.company} {self.share}%"


class CompanyStatusChange(StatusHistory):
    """Who verified or suspended a company, when and why (never deleted)."""

    statuses = Company.Status

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = "受注者の状態変更"
        verbose_name_plural = "受注者の状態変更"
        # Newest first: the admin shows the latest verification or suspension on top.
        ordering = ["-at"]

    def __str__(self):
        return f"{self.company}: {super().__str__()}"


class Membership(models.Model):
    """A user belongs to at most one company; the first member administers it."""

    class Role(models.TextChoices):
        ADMIN = "admin", "管理者"
        MEMBER = "member", "担当者"

    class Duty(models.TextChoices):
        """What the member may do with applications (decision 0022): a 申込担当 drafts, saves
        and edits; a 承認者 also submits to the surety, requests changes and shows the
        認証キー. The administrator assigns it; a company always keeps one 承認者."""

        DRAFTER = "drafter", "申込担当"
        APPROVER = "approver", "承認者"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="membership"
    )
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField("権限", max_length=20, choices=Role.choices, default=Role.MEMBER)
    # Members from before roles existed became 承認者 (they could submit): nothing broke.
    duty = models.CharField("役割", max_length=20, choices=Duty.choices, default=Duty.APPROVER)
    joined_at = models.DateTimeField("参加日時", default=timezone.now)

    class Meta:
        verbose_name = "所属"
        verbose_name_plural = "所属"

    def __str__(self):
        return f"{self.user} @ {self.company}"

    @property
    def can_approve(self):
        return self.duty == self.Duty.APPROVER


class InvitationBase(models.Model):
    """An invitation bound to an e-mail address — to a company (Invitation), an orderer's
    office (OfficeInvitation) or a bank branch (BankInvitation).

    There is no token: the invitee signs up or logs in with that address, which allauth has
    verified, and accepts on the home page. Nothing secret travels in the mail. Accepting and
    revoking are one pair of services for all three (accounts.services).
    """

    email = models.EmailField("招待先メールアドレス")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="招待者"
    )
    created_at = models.DateTimeField("招待日時", default=timezone.now)
    accepted_at = models.DateTimeField("参加日時", null=True, blank=True)
    revoked_at = models.DateTimeField("取消日時", null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_open(self):
        return self.accepted_at is None and self.revoked_at is None


class Invitation(InvitationBase):
    """An invitation to join a company."""

    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="invitations", verbose_name="受注者"
    )

    class Meta:
        verbose_name = "招待"
        verbose_name_plural = "招待"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "company",
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email_company",
            )
        ]

    def __str__(self):
        return f"{self.email} → {self.company}"


PERCENT = MaxValueValidator(100, "100%%以下で入力してください。")  # %-formatted by Django


class Orderer(models.Model):
    """An orderer (発注者, 被保証者) such as 津久見市, with its electronic-surety policy.

    The local limits (DESIGN.md §5, marked "local") are data: percentages are whole numbers
    (40 means 40%) so that every rule computes in integers.
    """

    name = models.CharField("発注者名", max_length=100)
    prefecture = models.CharField("都道府県", max_length=10)
    head_title = models.CharField("代表者（被保証者）", max_length=100, help_text="例: 津久見市長")
    electronic_since = models.DateField(
        "電子保証の対象（契約日）",
        null=True,
        blank=True,
        help_text="この日以降に契約する工事が電子交付の対象。空欄は電子保証に未対応。",
    )
    excluded_contract_methods = models.JSONField(
        "電子保証の対象外とする契約方法", default=list, blank=True
    )
    printout_required = models.BooleanField(
        "認証キー等のお知らせに保証証書（画面の印刷）を添付", default=True
    )
    electronic_terms_name = models.CharField(
        "電子保証用約款の名称",
        max_length=200,
        blank=True,
        help_text="設定すると、申込時に受注者がこの約款の使用を確認します。",
    )
    submission_note = models.TextField(
        "提出方法の補足", blank=True, help_text="認証キー等のお知らせに印字されます。"
    )
    min_advance_contract_amount = models.PositiveBigIntegerField(
        "前払金の対象となる最低請負代金額（円）", default=1_300_000
    )
    min_advance_period_days = models.PositiveIntegerField(
        "前払金の対象となる最低工期（日）", default=60
    )
    advance_ratio_construction = models.PositiveSmallIntegerField(
        "前払金の上限割合（工事, %）", default=40, validators=[PERCENT]
    )
    advance_ratio_consulting = models.PositiveSmallIntegerField(
        "前払金の上限割合（設計・調査・測量, %）", default=30, validators=[PERCENT]
    )
    intermediate_allowed = models.BooleanField("中間前払金制度あり", default=True)
    intermediate_excludes_partial_payment = models.BooleanField(
        "部分払を請求した場合は中間前払金の対象外", default=True
    )
    contract_guarantee_min_ratio = models.PositiveSmallIntegerField(
        "契約保証の最低割合（%）", default=10, validators=[PERCENT]
    )
    contract_guarantee_low_bid_ratio = models.PositiveSmallIntegerField(
        "低入札価格調査の場合の契約保証の最低割合（%）", default=30, validators=[PERCENT]
    )
    price_increase_threshold_percent = models.PositiveSmallIntegerField(
        "契約保証の増額を要する請負代金額の増加（当初比, %）",
        null=True,
        blank=True,
        default=125,
        help_text="例: 125 = 当初の1.25倍以上で契約保証金額の増額が必要。空欄は規定なし。",
    )
    # 前払金の使途 (advances.rules, decision 0014): since 2025-04-02 national works may spend
    # up to 25% of the 前払金 on 現場管理費・一般管理費等; each local government adopts it on
    # its own date, for contracts concluded from then on.
    advance_overhead_since = models.DateField(
        "現場管理費等を前払金の使途に含める特約（この契約日以降）",
        null=True,
        blank=True,
        help_text="この日以降に契約した工事は、前払金の25%まで現場管理費・一般管理費等に充当できる"
        "特約があるものとして扱います（工事ごとに変更可）。空欄は特約なし。",
    )
    advance_overhead_from_intermediate = models.BooleanField(
        "中間前払金を現場管理費等に充当することを認める", default=False
    )

    class Meta:
        verbose_name = "発注者"
        verbose_name_plural = "発注者"
        constraints = [
            models.UniqueConstraint(fields=["prefecture", "name"], name="orderer_unique_name"),
            models.CheckConstraint(
                condition=models.Q(advance_ratio_construction__lte=100)
                & models.Q(advance_ratio_consulting__lte=100)
                & models.Q(contract_guarantee_min_ratio__lte=100)
                & models.Q(contract_guarantee_low_bid_ratio__lte=100),
                name="orderer_ratios_are_percentages",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_electronic(self):
        return self.electronic_since is not None

    def channels_for(self, kind):
        """The submission channels this orderer accepts for a guarantee kind, in display order."""
        chosen = {c.channel for c in self.submission_channels.all() if c.kind == kind}
        return [c for c in SubmissionChannel if c in chosen]

    def channel_summary(self):
        """How each kind reaches this orderer, as the clerk reads it where the application
        asks for 受取方法 (e.g. 「前払金保証：esureの受信箱へ自動で交付」)."""
        parts = []
        for kind in GuaranteeKind:
            channels = self.channels_for(kind)
            if channels:
                parts.append(f"{kind.label}：{'、'.join(c.label for c in channels)}")
        return " ／ ".join(parts)

    def delivers_to_inbox(self, kind):
        """Whether esure delivers each version of this kind to the office's 受信箱."""
        return SubmissionChannel.INBOX in self.channels_for(kind)

    def accepts_method(self, method):
        return method not in self.excluded_contract_methods


class OrdererSubmissionChannel(models.Model):
    """One accepted way of handing a key notice to the orderer, per guarantee kind."""

    orderer = models.ForeignKey(
        Orderer, on_delete=models.CASCADE, related_name="submission_channels"
    )
    kind = models.CharField("保証の種類", max_length=20, choices=GuaranteeKind.choices)
    channel = models.CharField("提出方法", max_length=20, choices=SubmissionChannel.choices)

    class Meta:
        verbose_name = "提出方法"
        verbose_name_plural = "提出方法"
        constraints = [
            models.UniqueConstraint(
                fields=["orderer", "kind", "channel"], name="orderer_channel_unique"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.get_channel_display()}"


class OrdererOffice(models.Model):
    """A section of the orderer (発注機関/担当課) that receives certain kinds of guarantee."""

    orderer = models.ForeignKey(
        Orderer, on_delete=models.PROTECT, related_name="offices", verbose_name="発注者"
    )
    name = models.CharField("発注機関・担当課", max_length=100)
    handles_kinds = models.JSONField("担当する保証の種類", default=list, blank=True)
    postal_code = models.CharField("郵便番号", max_length=8, blank=True)
    address = models.CharField("所在地", max_length=300, blank=True)
    phone = models.CharField("電話番号", max_length=20, blank=True)
    fax = models.CharField("FAX番号", max_length=20, blank=True)
    notification_email = models.EmailField(
        "通知先メールアドレス",
        blank=True,
        help_text="電子証書の到着・変更・期限のお知らせを、利用者に加えてこの宛先にも送ります。",
    )

    class Meta:
        verbose_name = "発注機関"
        verbose_name_plural = "発注機関"
        constraints = [
            models.UniqueConstraint(fields=["orderer", "name"], name="office_unique_name")
        ]

    def __str__(self):
        return f"{self.orderer.name} {self.name}"


class OfficeMembership(models.Model):
    """An orderer's staff member with an account: their lookups are attributed to them, they
    keep the office's list (受信箱), answer 受領 / 返戻 and get its alerts. Surety staff create
    each orderer's first 管理者 in admin; a 管理者 invites colleagues (OfficeInvitation),
    assigns them to the orderer's offices and removes them (decision 0018)."""

    class Role(models.TextChoices):
        ADMIN = "admin", "管理者"
        MEMBER = "member", "担当者"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="office_membership",
        verbose_name="利用者",
    )
    office = models.ForeignKey(
        OrdererOffice, on_delete=models.PROTECT, related_name="members", verbose_name="発注機関"
    )
    role = models.CharField("権限", max_length=20, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    class Meta:
        verbose_name = "発注機関の利用者"
        verbose_name_plural = "発注機関の利用者"

    def __str__(self):
        return f"{self.user} @ {self.office}"

    @property
    def is_admin(self):
        return self.role == self.Role.ADMIN


class OfficeInvitation(InvitationBase):
    """An orderer's 管理者 invites a colleague to one of its offices."""

    office = models.ForeignKey(
        OrdererOffice, on_delete=models.PROTECT, related_name="invitations", verbose_name="発注機関"
    )

    class Meta:
        verbose_name = "発注機関の利用者の招待"
        verbose_name_plural = "発注機関の利用者の招待"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="office_invitation_one_open_per_email",
            )
        ]

    def __str__(self):
        return f"{self.email} → {self.office}"


class Bank(models.Model):
    """A bank (金融機関). Those holding a 委託契約 with the surety (預託金融機関) may keep the
    前払金専用口座 of a guarantee; the list is data, kept by surety staff."""

    code = models.CharField(
        "金融機関コード", max_length=4, help_text="4桁（全銀協の統一金融機関コード）"
    )
    name = models.CharField("金融機関名", max_length=100)
    entrusted = models.BooleanField(
        "委託契約あり（預託金融機関）",
        default=True,
        help_text="保証会社と前払金の預託に関する委託契約がある金融機関のみ、前払金専用口座に指定できます。",
    )

    class Meta:
        verbose_name = "金融機関"
        verbose_name_plural = "金融機関"
        constraints = [
            models.UniqueConstraint(fields=["code"], name="bank_code_unique"),
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{4}$"), name="bank_code_4_digits"
            ),
        ]

    def __str__(self):
        return self.name


class BankBranch(models.Model):
    """A branch (支店) of a bank: where designated accounts are kept and whose staff confirm
    the withdrawals from them (branch-scoped bank users)."""

    bank = models.ForeignKey(
        Bank, on_delete=models.PROTECT, related_name="branches", verbose_name="金融機関"
    )
    code = models.CharField("店番", max_length=3, help_text="3桁")
    name = models.CharField("支店名", max_length=100)

    class Meta:
        verbose_name = "金融機関の支店"
        verbose_name_plural = "金融機関の支店"
        constraints = [
            models.UniqueConstraint(fields=["bank", "code"], name="bank_branch_code_unique"),
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{3}$"), name="bank_branch_code_3_digits"
            ),
        ]

    def __str__(self):
        return f"{self.bank.name} {self.name}"


class BankMembership(models.Model):
    """A bank branch's staff member (預託金融機関の担当者): sees the designated accounts kept
    at the branch and confirms withdrawals from them. Joins by an invitation from surety
    staff; TOTP required (accounts.middleware)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="bank_membership",
        verbose_name="利用者",
    )
    branch = models.ForeignKey(
        BankBranch, on_delete=models.PROTECT, related_name="members", verbose_name="支店"
    )
    joined_at = models.DateTimeField("参加日時", default=timezone.now)

    class Meta:
        verbose_name = "金融機関の利用者"
        verbose_name_plural = "金融機関の利用者"

    def __str__(self):
        return f"{self.user} @ {self.branch}"


class BankInvitation(InvitationBase):
    """Surety staff invite a bank branch's staff member."""

    branch = models.ForeignKey(
        BankBranch, on_delete=models.PROTECT, related_name="invitations", verbose_name="支店"
    )

    class Meta:
        verbose_name = "金融機関の利用者の招待"
        verbose_name_plural = "金融機関の利用者の招待"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="bank_invitation_one_open_per_email",
            )
        ]

    def __str__(self):
        return f"{self.email} → {self.branch}"
