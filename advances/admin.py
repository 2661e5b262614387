"""Surety staff in Django admin: the lists of allowed uses and evidence (data they keep),
every account's position, the monitoring list (rule 9) with audits, and the decisions —
accept or return a 明細書, approve or refuse a cash withdrawal — as buttons calling the
services. Status and money are read-only here: nothing is edited by a save."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from accounts.admin import ChoiceListField
from advances import selectors, services
from advances.models import (
    AdvanceAccount,
    BankImport,
    Deposit,
    EvidenceKind,
    Inspection,
    PlanLine,
    PlanStatusChange,
    UseCategory,
    UsePlan,
    Withdrawal,
    WithdrawalLine,
    WithdrawalStatusChange,
    WorkKind,
)
from advances.views import pdf_response, serve_evidence
from esure.admin import ReadOnlyAdmin, ReadOnlyInline, StatusHistoryInline
from esure.wareki import yen

P = UsePlan.Status
W = Withdrawal.Status


# --- The data staff keep (rules 1 and 7) -----------------------------------------------


class UseCategoryForm(forms.ModelForm):
    work_kinds = ChoiceListField(
        label="対象となる業務の種類", choices=WorkKind.choices, required=False
    )

    class Meta:
        model = UseCategory
        fields = [
            "code",
            "name",
            "work_kinds",
            "payment",
            "is_overhead",
            "evidence_kinds",
            "sort_order",
            "active",
        ]
        widgets = {"evidence_kinds": forms.CheckboxSelectMultiple}


@admin.register(UseCategory)
class UseCategoryAdmin(admin.ModelAdmin):
    form = UseCategoryForm
    list_display = ["name", "kinds", "payment", "is_overhead", "evidence", "active", "sort_order"]
    list_filter = ["active", "payment"]
    ordering = ["sort_order", "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("evidence_kinds")

    @admin.display(description="業務の種類")
    def kinds(self, obj):
        return "・".join(WorkKind(k).label for k in obj.work_kinds if k in WorkKind.values)

    @admin.display(description="必要な証憑")
    def evidence(self, obj):
        return "・".join(k.name for k in obj.evidence_kinds.all()) or "なし"

    def has_delete_permission(self, request, obj=None):
        return False  # retire a category (使用中 off): plans in the past refer to it


@admin.register(EvidenceKind)
class EvidenceKindAdmin(admin.ModelAdmin):
    list_display = ["name", "sort_order"]

    def has_delete_permission(self, request, obj=None):
        return False


# --- Accounts, their position, monitoring and audits ------------------------------------


class PlanInline(ReadOnlyInline):
    model = UsePlan
    fields = ["version", "status", "is_change", "submitted_at", "decided_at"]
    readonly_fields = fields
    show_change_link = True


class WithdrawalInline(ReadOnlyInline):
    model = Withdrawal
    fields = ["number", "status", "cash", "submitted_at", "executed_on", "executed_amount"]
    readonly_fields = fields
    show_change_link = True


class DepositInline(ReadOnlyInline):
    model = Deposit
    fields = ["received_on", "kind", "amount", "reference", "recorded_by"]
    readonly_fields = fields


class InspectionInline(ReadOnlyInline):
    model = Inspection
    fields = ["opened_at", "kind", "status", "from_monitoring", "findings"]
    readonly_fields = fields
    show_change_link = True


class MonitoringFilter(admin.SimpleListFilter):
    title = "監視（前払金の滞留）"
    parameter_name = "monitoring"

    def lookups(self, request, model_admin):
        return [("flagged", "要確認")]

    def queryset(self, request, queryset):
        if self.value() == "flagged":
            return queryset.filter(pk__in=[a.pk for a in _monitoring()])
        return queryset


def _monitoring():
    return selectors.monitoring(
        days=settings.ESURE_ADVANCE_MONITOR_DAYS, percent=settings.ESURE_ADVANCE_MONITOR_PERCENT
    )


class InspectionForm(forms.Form):
    kind = forms.ChoiceField(label="監査の種類", choices=Inspection.Kind.choices)
    reason = forms.CharField(label="理由", required=False, widget=forms.Textarea)
    from_monitoring = forms.BooleanField(required=False)


@admin.register(AdvanceAccount)
class AdvanceAccountAdmin(ReadOnlyAdmin):
    change_form_template = "admin/advances/advanceaccount/change_form.html"
    change_list_template = "admin/advances/advanceaccount/change_list.html"
    list_display = ["__str__", "company", "state", "received", "paid_out", "balance"]
    list_filter = ["state", MonitoringFilter, "branch__bank"]
    search_fields = ["account_number", "company__name", "work__name", "guarantee__number"]
    list_select_related = ["company", "work", "branch", "branch__bank"]
    inlines = [PlanInline, WithdrawalInline, DepositInline, InspectionInline]
    readonly_fields = ["position_table"]

    def get_queryset(self, request):
        return selectors.with_totals(super().get_queryset(request))

    @admin.display(description="入金")
    def received(self, obj):
        return yen(obj.received_total)

    @admin.display(description="払出済")
    def paid_out(self, obj):
        return yen(obj.paid_total)

    @admin.display(description="残高")
    def balance(self, obj):
        return yen(obj.received_total - obj.paid_total)

    @admin.display(description="明細ごとの払出状況")
    def position_table(self, obj):
        return ""  # drawn by the change form template from `position`

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "monitoring/", wrap(self.monitoring_view), name="advances_advanceaccount_monitoring"
            ),
            path(
                "<id:pk>/inspect/",
                wrap(require_POST(self.inspect_view)),
                name="advances_advanceaccount_inspect",
            ),
            *super().get_urls(),
        ]

    def monitoring_view(self, request):
        """Rule 9: accounts still holding more than the set share of the 前払金 the set
        number of days after it was paid in."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "前払金の監視リスト",
            "accounts": _monitoring(),
            "days": settings.ESURE_ADVANCE_MONITOR_DAYS,
            "percent": settings.ESURE_ADVANCE_MONITOR_PERCENT,
            "kinds": Inspection.Kind.choices,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/advances/monitoring.html", context)

    def inspect_view(self, request, pk):
        if not request.user.has_perm("advances.add_inspection"):
            raise PermissionDenied
        account = get_object_or_404(AdvanceAccount, pk=pk)
        form = InspectionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "監査の種類を選んでください。")
            return redirect(reverse("admin:advances_advanceaccount_change", args=[pk]))
        inspection = services.open_inspection(account=account, by=request.user, **form.cleaned_data)
        messages.success(request, f"{inspection.get_kind_display()}を開始しました。")
        return redirect(reverse("admin:advances_inspection_change", args=[inspection.pk]))

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context["position"] = selectors.position_of(obj)
            context["terms"] = selectors.account_terms(obj)
            context["inspection_kinds"] = Inspection.Kind.choices
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


class PlanLineInline(ReadOnlyInline):
    model = PlanLine
    fields = ["key", "category", "funding", "description", "payee_name", "undecided", "amount"]
    readonly_fields = fields


class PlanHistoryInline(StatusHistoryInline):
    model = PlanStatusChange


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "承認"), ("return", "差戻し")])
    reason = forms.CharField(required=False)


@admin.register(UsePlan)
class UsePlanAdmin(ReadOnlyAdmin):
    """前払金使途内訳明細書: the queue of submitted versions and the decision buttons."""

    change_form_template = "admin/advances/useplan/change_form.html"
    list_display = ["__str__", "status", "is_change", "company", "submitted_at", "decided_at"]
    list_filter = ["status", "is_change"]
    search_fields = ["account__company__name", "account__work__name"]
    list_select_related = ["account__company", "account__work"]
    ordering = ["-submitted_at", "-pk"]
    inlines = [PlanLineInline, PlanHistoryInline]
    fields = ["account", "version", "status", "is_change", "reason", "created_by", "submitted_at"]
    readonly_fields = fields

    @admin.display(description="受注者")
    def company(self, obj):
        return obj.account.company

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<id:pk>/decide/",
                wrap(require_POST(self.decide_view)),
                name="advances_useplan_decide",
            ),
            path("<id:pk>/pdf/", wrap(self.pdf_view), name="advances_useplan_pdf"),
            *super().get_urls(),
        ]

    def pdf_view(self, request, pk):
        """The 明細書 as submitted (the stored PDF), for staff only."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        plan = get_object_or_404(UsePlan, pk=pk)
        return pdf_response(plan.pdf, f"shitoseisaisho-{plan.account_id}-v{plan.version}.pdf")

    def decide_view(self, request, pk):
        if not request.user.has_perm("advances.change_useplan"):
            raise PermissionDenied
        plan = get_object_or_404(UsePlan, pk=pk)
        form = DecisionForm(request.POST)
        url = reverse("admin:advances_useplan_change", args=[pk])
        if not form.is_valid():
            messages.error(request, "判断を選んでください。")
            return redirect(url)
        reason = form.cleaned_data["reason"]
        try:
            if form.cleaned_data["decision"] == "accept":
                services.accept_plan(plan=plan, by=request.user, note=reason)
                messages.success(request, f"明細書 第{plan.version}版 を承認しました。")
            else:
                services.return_plan(plan=plan, by=request.user, reason=reason)
                messages.success(request, f"明細書 第{plan.version}版 を差し戻しました。")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(url)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context["can_decide"] = obj.status == P.SUBMITTED
            context["terms"] = selectors.account_terms(obj.account)
            context["overhead_default"] = selectors.overhead_clause_default(obj.account.work)
            if context["can_decide"]:
                lines = list(obj.lines.select_related("category"))
                context["problems"] = services.plan_problems_of(
                    obj.account, lines, complete=True
                ).messages()
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


class WithdrawalLineInline(ReadOnlyInline):
    model = WithdrawalLine
    fields = ["plan_line", "amount", "payee_name", "payee_bank", "payee_account_number"]
    readonly_fields = fields


class WithdrawalHistoryInline(StatusHistoryInline):
    model = WithdrawalStatusChange


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdmin):
    """払出依頼 and their 払出報告; a cash withdrawal waits here for staff approval."""

    change_form_template = "admin/advances/withdrawal/change_form.html"
    list_display = ["__str__", "status", "cash", "submitted_at", "executed_on", "executed_amount"]
    list_filter = ["status", "cash"]
    search_fields = ["account__company__name", "account__account_number", "bank_reference"]
    list_select_related = ["account__work"]
    ordering = ["-submitted_at", "-pk"]
    inlines = [WithdrawalLineInline, WithdrawalHistoryInline]
    fields = [
        "account",
        "number",
        "status",
        "cash",
        "requested_on",
        "submitted_at",
        "confirmed_at",
        "executed_on",
        "executed_amount",
        "bank_reference",
    ]
    readonly_fields = fields

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<id:pk>/cash/",
                wrap(require_POST(self.cash_view)),
                name="advances_withdrawal_cash",
            ),
            path("<id:pk>/pdf/", wrap(self.pdf_view), name="advances_withdrawal_pdf"),
            path(
                "<id:pk>/evidence/<id:evidence_pk>/",
                wrap(self.evidence_view),
                name="advances_withdrawal_evidence",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        withdrawal = get_object_or_404(Withdrawal, pk=pk)
        return pdf_response(withdrawal.pdf, f"haraidashi-{withdrawal.reference}.pdf")

    def evidence_view(self, request, pk, evidence_pk):
        """An evidence file, for staff with the view permission (never a public URL)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        withdrawal = get_object_or_404(Withdrawal, pk=pk)
        return serve_evidence(get_object_or_404(selectors.evidence_of(withdrawal), pk=evidence_pk))

    def cash_view(self, request, pk):
        if not request.user.has_perm("advances.change_withdrawal"):
            raise PermissionDenied
        withdrawal = get_object_or_404(Withdrawal, pk=pk)
        form = DecisionForm(request.POST)
        url = reverse("admin:advances_withdrawal_change", args=[pk])
        if not form.is_valid():
            return redirect(url)
        reason = form.cleaned_data["reason"]
        try:
            if form.cleaned_data["decision"] == "accept":
                services.approve_cash(withdrawal=withdrawal, by=request.user, note=reason)
                messages.success(request, "現金での払出を承認し、金融機関へ送りました。")
            else:
                services.refuse_cash(withdrawal=withdrawal, by=request.user, reason=reason)
                messages.success(request, "現金での払出を承認しませんでした。")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(url)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context["evidence"] = selectors.evidence_of(obj)
            context["can_decide_cash"] = obj.status == W.CASH_REVIEW
            context["cash_limit"] = settings.ESURE_ADVANCE_CASH_LIMIT
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


class CloseInspectionForm(forms.Form):
    findings = forms.CharField(required=False)


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    """監査: opened from the monitoring list or an account's page; closed with findings."""

    change_form_template = "admin/advances/inspection/change_form.html"
    list_display = ["__str__", "kind", "status", "from_monitoring", "opened_at", "closed_at"]
    list_filter = ["status", "kind", "from_monitoring"]
    list_select_related = ["account__work"]
    fields = [
        "account",
        "kind",
        "status",
        "from_monitoring",
        "reason",
        "opened_by",
        "opened_at",
        "findings",
        "closed_by",
        "closed_at",
    ]
    readonly_fields = fields

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<id:pk>/close/",
                wrap(require_POST(self.close_view)),
                name="advances_inspection_close",
            ),
            *super().get_urls(),
        ]

    def close_view(self, request, pk):
        if not request.user.has_perm("advances.change_inspection"):
            raise PermissionDenied
        inspection = get_object_or_404(Inspection, pk=pk)
        form = CloseInspectionForm(request.POST)
        form.is_valid()
        try:
            services.close_inspection(
                inspection=inspection, by=request.user, findings=form.cleaned_data["findings"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "監査を完了しました。")
        return redirect(reverse("admin:advances_inspection_change", args=[pk]))

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["can_close"] = obj is not None and obj.status == Inspection.Status.OPEN
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "account", "received_on", "kind", "amount", "recorded_by"]
    list_filter = ["kind"]
    list_select_related = ["account__work", "account__branch__bank", "recorded_by"]
    date_hierarchy = "received_on"


@admin.register(BankImport)
class BankImportAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "imported_at", "imported_by", "rows"]
    list_select_related = ["branch__bank", "imported_by"]
    fields = ["branch", "name", "sha256", "imported_by", "imported_at", "result"]
    readonly_fields = fields

    @admin.display(description="行数")
    def rows(self, obj):
        return len(obj.result)
