"""Surety staff review claims in admin (in Japanese, like the console): the list with the
open claims nearest their due date first, the claim with its working and documents, and the
decisions — request more documents, approve (the amount), refuse, record the payment — as
forms calling the services. Status and money are read-only here: nothing is edited by a save.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from claims import selectors, services
from claims.models import Claim, ClaimStatusChange
from claims.views import serve_attachment
from esure.admin import ReadOnlyAdmin, StatusHistoryInline
from esure.forms import DateInput, YenField
from esure.wareki import yen


class RequestDocumentsForm(forms.Form):
    message = forms.CharField(label="依頼する書類・連絡", widget=forms.Textarea, required=False)


class ApproveForm(forms.Form):
    amount = YenField(label="支払決定額")
    note = forms.CharField(
        label="メモ（算定額と異なるときは必須）", widget=forms.Textarea, required=False
    )


class RefuseForm(forms.Form):
    reason = forms.CharField(label="理由", widget=forms.Textarea, required=False)


class PaymentForm(forms.Form):
    paid_on = forms.DateField(label="支払日", widget=DateInput)
    amount = YenField(label="支払額")
    note = forms.CharField(label="メモ", widget=forms.Textarea, required=False)


# action slug → (its form, the service it calls, the message on success)
ACTIONS = {
    "request_documents": (
        RequestDocumentsForm,
        services.request_documents,
        "書類の追加を依頼しました。",
    ),
    "approve": (ApproveForm, services.approve, "支払を決定しました。"),
    "refuse": (RefuseForm, services.refuse, "お支払いできない旨を通知しました。"),
    "record_payment": (PaymentForm, services.record_payment, "支払を記録しました。"),
}
# Which decision each status offers: the service's table says which moves exist.
OFFERED = {
    Claim.Status.MORE_DOCUMENTS_REQUESTED: "request_documents",
    Claim.Status.APPROVED: "approve",
    Claim.Status.REFUSED: "refuse",
    Claim.Status.PAID: "record_payment",
}


def _yen_or_dash(amount):
    return "—" if amount is None else yen(amount)


class HistoryInline(StatusHistoryInline):
    model = ClaimStatusChange
    verbose_name_plural = "経過"


class OpenFilter(admin.SimpleListFilter):
    title = "手続き"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("open", "手続き中"), ("closed", "終了")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(status__in=Claim.OPEN)
        if self.value() == "closed":
            return queryset.exclude(status__in=Claim.OPEN)
        return queryset


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    change_form_template = "admin/claims/claim/change_form.html"
    list_display = [
        "__str__",
        "kind",
        "office",
        "status",
        "claimable_yen",
        "filed_at",
        "due_on",
        "days_left",
    ]
    list_filter = [OpenFilter, "status", "guarantee__kind"]
    search_fields = ["guarantee__number", "guarantee__company__name", "guarantee__work__name"]
    list_select_related = ["guarantee", "office__orderer"]
    # Open claims first, the nearest due date first (法第13条's 30 days), then the closed.
    ordering = selectors.review_order()
    inlines = [HistoryInline]
    fields = [
        "guarantee",
        "office",
        "status",
        "terminated_on",
        "termination_cause",
        "advance_paid_yen",
        "progress_paid_yen",
        "completed_value_yen",
        "penalty_yen",
        "guaranteed_amount_yen",
        "claimable_yen",
        "filed_by",
        "filed_at",
        "due_on",
        "approved_amount_yen",
        "paid_on",
        "paid_amount_yen",
    ]
    readonly_fields = fields

    @admin.display(description="種類", ordering="guarantee__kind")
    def kind(self, obj):
        return obj.guarantee.get_kind_display()

    @admin.display(description="請求できる額", ordering="claimable")
    def claimable_yen(self, obj):
        return yen(obj.claimable)

    @admin.display(description="支払済の前払金")
    def advance_paid_yen(self, obj):
        return _yen_or_dash(obj.advance_paid)

    @admin.display(description="支払済の出来形払")
    def progress_paid_yen(self, obj):
        return _yen_or_dash(obj.progress_paid)

    @admin.display(description="既済部分の代価")
    def completed_value_yen(self, obj):
        return _yen_or_dash(obj.completed_value)

    @admin.display(description="請求する違約金")
    def penalty_yen(self, obj):
        return _yen_or_dash(obj.penalty)

    @admin.display(description="保証金額（請求時）")
    def guaranteed_amount_yen(self, obj):
        return yen(obj.guaranteed_amount)

    @admin.display(description="支払決定額")
    def approved_amount_yen(self, obj):
        return _yen_or_dash(obj.approved_amount)

    @admin.display(description="支払額")
    def paid_amount_yen(self, obj):
        return _yen_or_dash(obj.paid_amount)

    @admin.display(description="期限まで")
    def days_left(self, obj):
        if obj.status not in Claim.OPEN:
            return "—"
        days = (obj.due_on - timezone.localdate()).days
        return f"{days}日" if days >= 0 else f"{-days}日超過"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<id:pk>/act/<slug:action>/",
                wrap(require_POST(self.act_view)),
                name="claims_claim_act",
            ),
            path(
                "<id:pk>/attachments/<id:attachment_pk>/",
                wrap(self.attachment_view),
                name="claims_claim_attachment",
            ),
            *super().get_urls(),
        ]

    def attachment_view(self, request, pk, attachment_pk):
        """A document of the claim, for staff with the view permission."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        claim = get_object_or_404(Claim, pk=pk)
        return serve_attachment(selectors.get_attachment(claim, attachment_pk))

    def act_view(self, request, pk, action):
        """One decision on the claim, through its service."""
        if not request.user.has_perm("claims.change_claim"):
            raise PermissionDenied
        claim = get_object_or_404(Claim, pk=pk)
        if action not in ACTIONS:
            raise PermissionDenied
        form_class, service, done = ACTIONS[action]
        form = form_class(request.POST)
        url = reverse("admin:claims_claim_change", args=[pk])
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                messages.error(
                    request, f"{label}: {' '.join(errors)}" if label else " ".join(errors)
                )
            return redirect(url)
        try:
            service(claim=claim, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, done)
        return redirect(url)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            moves = services.ALLOWED.get(obj.status, set())
            can_act = request.user.has_perm("claims.change_claim")
            context["claim_attachments"] = selectors.attachments_of(obj)
            context["offered"] = {OFFERED[s] for s in moves if s in OFFERED} if can_act else set()
            context["approve_form"] = ApproveForm(
                initial={"amount": obj.approved_amount or obj.claimable}
            )
            context["payment_form"] = PaymentForm(
                initial={"paid_on": timezone.localdate(), "amount": obj.approved_amount}
            )
            context["request_form"] = RequestDocumentsForm()
            context["refuse_form"] = RefuseForm()
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)
