from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import (
    Bank,
    BankBranch,
    BankInvitation,
    BankMembership,
    Company,
    CompanyStatusChange,
    Invitation,
    Membership,
    OfficeInvitation,
    OfficeMembership,
    Orderer,
    OrdererOffice,
    OrdererSubmissionChannel,
    User,
)
from esure.admin import ReadOnlyAdmin, StatusHistoryInline
from esure.choices import ContractMethod, GuaranteeKind


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name"]}),
        (
            "権限",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("日時", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "joined_at"]
    readonly_fields = ["joined_at"]
    raw_id_fields = ["user"]


class CompanyStatusChangeInline(StatusHistoryInline):
    model = CompanyStatusChange


def _company_action(service, done):
    def action(modeladmin, request, queryset):
        moved = 0
        for company in queryset:
            try:
                service(company=company, by=request.user)
                moved += 1
            except ValidationError as error:
                modeladmin.message_user(
                    request, f"{company}: {' '.join(error.messages)}", messages.ERROR
                )
        if moved:
            modeladmin.message_user(request, f"{moved}社を{done}にしました。", messages.SUCCESS)

    return action


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "corporate_number", "status", "created_at", "verified_at"]
    list_filter = ["status"]
    search_fields = ["name", "name_kana", "corporate_number"]
    readonly_fields = ["status", "created_at", "verified_at"]
    inlines = [MembershipInline, CompanyStatusChangeInline]
    actions = ["verify", "suspend"]

    @admin.action(description="選択した会社を確認済にする（申込可能）")
    def verify(self, request, queryset):
        _company_action(services.verify_company, "確認済")(self, request, queryset)

    @admin.action(description="選択した会社を利用停止にする")
    def suspend(self, request, queryset):
        _company_action(services.suspend_company, "利用停止")(self, request, queryset)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "company", "invited_by", "created_at", "accepted_at", "revoked_at"]
    search_fields = ["email", "company__name"]
    readonly_fields = ["company", "email", "invited_by", "created_at", "accepted_at", "revoked_at"]

    def has_add_permission(self, request):
        return False


class ChoiceListField(forms.MultipleChoiceField):
    """A JSON list of choice values edited as check boxes."""

    widget = forms.CheckboxSelectMultiple

    def prepare_value(self, value):
        return value or []


class OrdererForm(forms.ModelForm):
    excluded_contract_methods = ChoiceListField(
        label="電子保証の対象外とする契約方法", choices=ContractMethod.choices, required=False
    )

    class Meta:
        model = Orderer
        exclude = []  # noqa: DJ006 — the admin's fieldsets choose and order the fields


class OrdererOfficeForm(forms.ModelForm):
    handles_kinds = ChoiceListField(
        label="担当する保証の種類", choices=GuaranteeKind.choices, required=False
    )

    class Meta:
        model = OrdererOffice
        fields = [
            "orderer",
            "name",
            "handles_kinds",
            "postal_code",
            "address",
            "phone",
            "fax",
            "notification_email",
        ]


class SubmissionChannelInline(admin.TabularInline):
    model = OrdererSubmissionChannel
    extra = 0


class OfficeInline(admin.StackedInline):
    model = OrdererOffice
    form = OrdererOfficeForm
    extra = 0


@admin.register(Orderer)
class OrdererAdmin(admin.ModelAdmin):
    form = OrdererForm
    list_display = ["name", "prefecture", "head_title", "electronic_since", "printout_required"]
    search_fields = ["name", "prefecture"]
    inlines = [SubmissionChannelInline, OfficeInline]
    fieldsets = [
        (None, {"fields": ["name", "prefecture", "head_title"]}),
        (
            "電子保証",
            {
                "fields": [
                    "electronic_since",
                    "excluded_contract_methods",
                    "electronic_terms_name",
                    "printout_required",
                    "submission_note",
                ]
            },
        ),
        (
            "前払金・中間前払金（地方の定め）",
            {
                "fields": [
                    "min_advance_contract_amount",
                    "min_advance_period_days",
                    "advance_ratio_construction",
                    "advance_ratio_consulting",
                    "intermediate_allowed",
                    "intermediate_excludes_partial_payment",
                    "advance_overhead_since",
                    "advance_overhead_from_intermediate",
                ]
            },
        ),
        (
            "契約保証（地方の定め）",
            {
                "fields": [
                    "contract_guarantee_min_ratio",
                    "contract_guarantee_low_bid_ratio",
                    "price_increase_threshold_percent",
                ]
            },
        ),
    ]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OrdererOffice)
class OrdererOfficeAdmin(admin.ModelAdmin):
    form = OrdererOfficeForm
    list_display = ["name", "orderer", "phone", "fax"]
    list_filter = ["orderer"]
    search_fields = ["name", "orderer__name"]


@admin.register(OfficeMembership)
class OfficeMembershipAdmin(admin.ModelAdmin):
    """Accounts of orderer offices (発注機関の利用者): staff create each orderer's first 管理者
    here; that 管理者 invites the others on D-Sure's 利用者の管理 (decision 0018)."""

    list_display = ["user", "office", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "office", "office__orderer"]
    raw_id_fields = ["user"]
    search_fields = ["user__email", "office__name", "office__orderer__name"]


@admin.register(OfficeInvitation)
class OfficeInvitationAdmin(ReadOnlyAdmin):
    """Invitations an orderer's 管理者 sent to colleagues (written by accounts.services)."""

    list_display = ["email", "office", "invited_by", "created_at", "accepted_at", "revoked_at"]
    list_select_related = ["office__orderer", "invited_by"]
    search_fields = ["email", "office__name"]


# --- Banks (預託金融機関), their branches and bank users ---------------------------------------


class BankBranchInline(admin.TabularInline):
    model = BankBranch
    extra = 0


@admin.register(Bank)
class BankAdmin(admin.ModelAdmin):
    """The surety's list of banks; those with a 委託契約 may keep designated accounts."""

    list_display = ["code", "name", "entrusted"]
    list_filter = ["entrusted"]
    search_fields = ["code", "name"]
    inlines = [BankBranchInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BankBranch)
class BankBranchAdmin(admin.ModelAdmin):
    list_display = ["__str__", "code", "bank"]
    list_filter = ["bank"]
    list_select_related = ["bank"]
    search_fields = ["name", "code", "bank__name"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BankMembership)
class BankMembershipAdmin(admin.ModelAdmin):
    """Bank users, made only by accepting an invitation (which also marks their session
    for the TOTP requirement); staff may end one (delete) when the person leaves."""

    list_display = ["user", "branch", "joined_at"]
    list_select_related = ["user", "branch", "branch__bank"]
    search_fields = ["user__email", "branch__name", "branch__bank__name"]
    readonly_fields = ["user", "branch", "joined_at"]

    def has_add_permission(self, request):
        return False


class BankInvitationForm(forms.ModelForm):
    class Meta:
        model = BankInvitation
        fields = ["branch", "email"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        try:
            services.check_bank_invitation(email)
        except ValidationError as error:
            raise ValidationError(error.message_dict["email"]) from error
        return email


@admin.register(BankInvitation)
class BankInvitationAdmin(admin.ModelAdmin):
    """Invite a bank branch's staff member: the mail names the address to sign up with;
    nothing secret travels in it (decision 0001)."""

    form = BankInvitationForm
    list_display = ["email", "branch", "invited_by", "created_at", "accepted_at", "revoked_at"]
    list_select_related = ["branch", "branch__bank", "invited_by"]
    search_fields = ["email", "branch__name", "branch__bank__name"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["branch", "email", "invited_by", "created_at", "accepted_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        invitation = services.invite_bank_user(
            branch=form.cleaned_data["branch"], email=form.cleaned_data["email"], by=request.user
        )
        obj.pk = invitation.pk

    @admin.action(description="選択した招待を取り消す")
    def revoke(self, request, queryset):
        for invitation in queryset:
            services.revoke_bank_invitation(invitation=invitation, by=request.user)
        self.message_user(request, "招待を取り消しました。", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return False
