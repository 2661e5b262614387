from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import (
    Company,
    CompanyStatusChange,
    Invitation,
    Membership,
    OfficeMembership,
    Orderer,
    OrdererOffice,
    OrdererSubmissionChannel,
    User,
)
from esure.admin import ReadOnlyInline
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


class CompanyStatusChangeInline(ReadOnlyInline):
    model = CompanyStatusChange
    fields = ["at", "old_status", "new_status", "by", "note"]
    readonly_fields = fields


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
        fields = ["orderer", "name", "handles_kinds", "postal_code", "address", "phone", "fax"]


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
    """Accounts of orderer offices (発注機関の利用者), created by surety staff."""

    list_display = ["user", "office", "created_at"]
    list_select_related = ["user", "office", "office__orderer"]
    raw_id_fields = ["user"]
    search_fields = ["user__email", "office__name", "office__orderer__name"]
