"""The registry in admin: read-only originals, with four staff actions (re-issue a key,
mark a paper certificate printed, record 完成 on the orderer's written notice, record the
return of a 減額 refund when it is reported). Nothing here can edit or delete a certificate."""

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from certificates import selectors, services
from certificates.content import contractor_lines
from certificates.models import (
    Certificate,
    Document,
    Guarantee,
    KeyDisplay,
    KeyReissue,
    NumberCounter,
    OfficeAlert,
    Refund,
    Submission,
    SubmissionEvent,
    Work,
)
from esure.admin import ReadOnlyAdmin, ReadOnlyInline, StatusHistoryInline
from esure.forms import DayField
from esure.storage import stored_file_response
from esure.wareki import to_wareki, yen


def _period(certificate):
    """保証期間 in 和暦, as the certificate prints it."""
    return f"{to_wareki(certificate.starts_on)} 〜 {to_wareki(certificate.ends_on)}"


REISSUE_PERMISSION = "certificates.reissue_key"
PRINTED_PERMISSION = "certificates.change_guarantee"
COMPLETION_PERMISSION = "certificates.record_completion"
REFUND_RETURN_PERMISSION = "certificates.record_refund_return"


class CompletionForm(forms.Form):
    """完成 as staff record it from the orderer's written notice (完成通知)."""

    completed_on = DayField(error_messages={"required": "完成日を入力してください。"})
    note = forms.CharField(
        max_length=1000,
        error_messages={"required": "発注者の通知書の日付・番号を入力してください。"},
    )


class RefundReturnForm(forms.Form):
    """The return of a 減額 refund as staff record it when it is reported to them (the
    orderer's receipt, the contractor's transfer record): the day and what was reported."""

    returned_on = DayField(error_messages={"required": "返還日を入力してください。"})
    note = forms.CharField(
        max_length=1000,
        error_messages={"required": "報告の内容（誰から・書類の日付や番号）を入力してください。"},
    )


def _may_reissue(request):
    return request.user.has_perm(REISSUE_PERMISSION)


def _require(request, permission):
    """403 for staff without the permission, before anything is read or written."""
    if not request.user.has_perm(permission):
        raise PermissionDenied


class CertificateInline(ReadOnlyInline):
    model = Certificate
    fields = ["version", "issued_at", "amount", "period", "fingerprint", "pdfs"]
    readonly_fields = fields

    @admin.display(description="保証期間")
    def period(self, obj):
        return _period(obj)

    @admin.display(description="PDF")
    def pdfs(self, obj):
        return format_html_join(
            "・",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:certificates_document_download", args=[d.pk]), d.get_kind_display())
                for d in obj.documents.all()
            ),
        )


class RefundInline(ReadOnlyInline):
    model = Refund
    show_change_link = True  # its page has the form that records the return
    fields = [
        "reduced_on",
        "received",
        "new_price",
        "rate_tenths",
        "amount",
        "due_on",
        "returned_on",
    ]
    readonly_fields = fields


@admin.register(Guarantee)
class GuaranteeAdmin(ReadOnlyAdmin):
    change_form_template = "admin/certificates/guarantee/change_form.html"
    list_display = [
        "number_display",
        "kind",
        "status",
        "company",
        "orderer",
        "delivery",
        "key_version",
        "concluded_at",
        "printed_at",
    ]
    list_filter = [
        "kind",
        "delivery",
        "orderer",
        ("printed_at", admin.EmptyFieldListFilter),
        ("completed_on", admin.EmptyFieldListFilter),
    ]
    search_fields = ["number", "company__name", "work__name"]
    list_select_related = ["company", "orderer"]
    ordering = ["-concluded_at"]
    inlines = [CertificateInline, RefundInline]
    readonly_fields = [
        "number_display",
        "kind",
        "status",
        "company",
        "work",
        "orderer",
        "office",
        "delivery",
        "key_version",
        "concluded_at",
        "cancelled_at",
        "printed_at",
        "contractor",
        "completed_on",
        "completed_at",
        "completed_by",
        "completed_office",
        "completion_note",
    ]
    exclude = ["number"]

    @admin.display(description="保証契約者（現在の版の記載）")
    def contractor(self, obj):
        current = obj.certificates.order_by("-version").only("content").first()
        if current is None:
            return "—"
        rows = contractor_lines(current.content["contractor"])
        return format_html_join("", "<div><b>{}</b>: {}</div>", rows)

    def has_change_permission(self, request, obj=None):
        # The change page only shows read-only fields (view permission). Each of the two
        # actions below needs its own permission: re-issuing a key `reissue_key`, marking a
        # paper certificate printed `change_guarantee` (decision 0009).
        return False

    @admin.display(description="保証契約番号", ordering="number")
    def number_display(self, obj):
        return obj.number_display

    def get_queryset(self, request):
        # The current version's terms, for the status (the registry's one definition).
        return selectors.with_current(super().get_queryset(request))

    @admin.display(description="状態")
    def status(self, obj):
        return selectors.status_of(
            cancelled=obj.cancelled_at is not None,
            completed=obj.completed_on is not None,
            current_version=obj.current_version,
            ends_on=obj.current_ends_on,
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<id:pk>/reissue-key/",
                # The password again first — only of staff who may re-issue at all: the
                # others get their 403 without being asked (decision 0009).
                wrap(
                    require_POST(
                        reauthentication_required(self.reissue_key_view, enabled=_may_reissue)
                    )
                ),
                name="certificates_guarantee_reissue_key",
            ),
            path(
                "<id:pk>/printed/",
                wrap(require_POST(self.printed_view)),
                name="certificates_guarantee_printed",
            ),
            path(
                "<id:pk>/complete/",
                wrap(require_POST(self.complete_view)),
                name="certificates_guarantee_complete",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_reissue_key"] = request.user.has_perm(REISSUE_PERMISSION)
        context["can_mark_printed"] = request.user.has_perm(PRINTED_PERMISSION)
        context["can_record_completion"] = request.user.has_perm(COMPLETION_PERMISSION)
        return super().render_change_form(request, context, *args, **kwargs)

    def reissue_key_view(self, request, pk):
        _require(request, REISSUE_PERMISSION)
        guarantee = get_object_or_404(Guarantee, pk=pk)
        try:
            services.reissue_key(
                guarantee=guarantee, by=request.user, reason=request.POST.get("reason", "")
            )
        except services.KeyNotAvailable:
            messages.error(request, "書面交付の保証には認証キーがありません。")
        else:
            messages.success(
                request,
                f"{guarantee.number_display} の認証キーを再発行しました。以前のキーは使えません。",
            )
        return redirect("admin:certificates_guarantee_change", pk)

    def printed_view(self, request, pk):
        _require(request, PRINTED_PERMISSION)
        guarantee = get_object_or_404(Guarantee, pk=pk)
        services.mark_printed(guarantee=guarantee)
        messages.success(request, f"{guarantee.number_display} を印刷済にしました。")
        return redirect("admin:certificates_guarantee_change", pk)

    def complete_view(self, request, pk):
        """完成 on the orderer's written notice: the day and the notice (its date, number)."""
        _require(request, COMPLETION_PERMISSION)
        guarantee = get_object_or_404(Guarantee, pk=pk)
        form = CompletionForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return redirect("admin:certificates_guarantee_change", pk)
        try:
            services.record_completion(
                guarantee=guarantee,
                completed_on=form.cleaned_data["completed_on"],
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{guarantee.number_display} の完成を記録しました（完了）。")
        return redirect("admin:certificates_guarantee_change", pk)


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["certificate", "kind", "sha256", "size", "created_at", "download"]
    list_filter = ["kind"]
    search_fields = ["certificate__guarantee__number"]

    @admin.display(description="PDF")
    def download(self, obj):
        url = reverse("admin:certificates_document_download", args=[obj.pk])
        return format_html('<a href="{}">表示</a>', url)

    def get_urls(self):
        return [
            path(
                "<id:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="certificates_document_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        _require(request, "certificates.view_document")
        document = get_object_or_404(Document, pk=pk)
        return stored_file_response(document.file, content_type="application/pdf")


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["guarantee", "version", "amount_yen", "period", "issued_at", "fingerprint"]
    search_fields = ["guarantee__number"]
    list_select_related = ["guarantee"]

    @admin.display(description="保証金額", ordering="amount")
    def amount_yen(self, obj):
        return yen(obj.amount)

    @admin.display(description="保証期間", ordering="ends_on")
    def period(self, obj):
        return _period(obj)


@admin.register(KeyDisplay)
class KeyDisplayAdmin(ReadOnlyAdmin):
    list_display = ["guarantee", "user", "via", "key_version", "at"]
    list_select_related = ["guarantee", "user"]


@admin.register(KeyReissue)
class KeyReissueAdmin(ReadOnlyAdmin):
    list_display = ["guarantee", "new_version", "by", "at", "reason"]


@admin.register(NumberCounter)
class NumberCounterAdmin(ReadOnlyAdmin):
    list_display = ["fiscal_year", "kind_digit", "last_serial"]


@admin.register(Work)
class WorkAdmin(ReadOnlyAdmin):
    list_display = ["name", "company", "orderer", "price_yen", "contract_day"]
    search_fields = ["name", "work_number", "company__name"]
    list_select_related = ["company", "orderer"]

    @admin.display(description="請負代金額", ordering="price")
    def price_yen(self, obj):
        return yen(obj.price) if obj.price is not None else "—"

    @admin.display(description="契約日", ordering="contract_date")
    def contract_day(self, obj):
        return to_wareki(obj.contract_date) if obj.contract_date else "—"


class SubmissionEventInline(StatusHistoryInline):
    model = SubmissionEvent


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    """提出: what reached which office, and its 受領 / 返戻 (written by the registry's services)."""

    list_display = ("guarantee", "certificate", "office", "channel", "status", "delivered_at")
    list_filter = ("status", "channel")
    search_fields = ("guarantee__number", "office__name", "reason")
    list_select_related = ("guarantee", "certificate__guarantee", "office__orderer")
    inlines = [SubmissionEventInline]


@admin.register(OfficeAlert)
class OfficeAlertAdmin(ReadOnlyAdmin):
    """お知らせ to offices (changes, cancellations, expiry), made by the registry's services."""

    list_display = ("at", "office", "guarantee", "kind", "subject")
    list_filter = ("kind",)
    search_fields = ("guarantee__number", "office__name")
    list_select_related = ("office__orderer", "guarantee")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    """前払金の返還 after a 減額, made with the 減額 version; the orderer records the return."""

    list_display = ("guarantee", "reduced_on", "amount_yen", "due_on", "returned_on")
    list_filter = (("returned_on", admin.EmptyFieldListFilter),)
    search_fields = ("guarantee__number",)
    list_select_related = ("guarantee",)
    ordering = ("returned_on", "due_on")

    change_form_template = "admin/certificates/refund/change_form.html"

    @admin.display(description="返還額", ordering="amount")
    def amount_yen(self, obj):
        return yen(obj.amount)

    def get_urls(self):
        return [
            path(
                "<id:pk>/returned/",
                self.admin_site.admin_view(require_POST(self.returned_view)),
                name="certificates_refund_returned",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_record_return"] = request.user.has_perm(REFUND_RETURN_PERMISSION)
        return super().render_change_form(request, context, *args, **kwargs)

    def returned_view(self, request, pk):
        """The return, recorded by staff (office None) through the service the orderer's
        office uses: the same rule (once, not in the future, not before the reduction), the
        contractor's mail and the audit event `refund.returned`."""
        _require(request, REFUND_RETURN_PERMISSION)
        refund = get_object_or_404(Refund, pk=pk)
        form = RefundReturnForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return redirect("admin:certificates_refund_change", pk)
        try:
            services.record_refund_return(
                refund=refund,
                returned_on=form.cleaned_data["returned_on"],
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"{refund.guarantee.number_display} の前払金の返還"
                f"（{yen(refund.amount)}）を記録しました。",
            )
        return redirect("admin:certificates_refund_change", pk)
