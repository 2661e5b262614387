"""Staff review of 契約保証予約 in admin (Japanese): the content read-only, and the decisions as
buttons that call the services — 承認 with the 予約手数料 and the 有効期限, 謝絶 with a
reason, the paper 予約証書 to print and 印刷済 (書面交付; decision 0034)."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from esure.admin import StatusHistoryInline
from esure.wareki import yen
from reservations import pdf, rules, services
from reservations.models import Reservation, ReservationStatusChange

S = Reservation.Status


class ApproveForm(forms.Form):
    fee = forms.IntegerField(label="予約手数料（円）", min_value=0)
    valid_until = forms.DateField(
        label="有効期限", widget=forms.DateInput(attrs={"type": "date"}), required=False
    )
    note = forms.CharField(label="メモ", required=False)


class DeclineForm(forms.Form):
    reason = forms.CharField(label="謝絶の理由", widget=forms.Textarea)


class StatusChangeInline(StatusHistoryInline):
    model = ReservationStatusChange


def _errors(request, error):
    messages.error(request, " ".join(error.messages))


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    change_form_template = "admin/reservations/reservation/change_form.html"
    list_display = [
        "number",
        "shown_status",
        "company",
        "orderer",
        "work_name",
        "bid_date",
        "amount_yen",
        "valid_until",
        "printed_at",
        "submitted_at",
    ]
    list_display_links = ["number", "work_name"]
    list_filter = ["status", "orderer", ("printed_at", admin.EmptyFieldListFilter)]
    search_fields = ["company__name", "work_name", "=pk"]
    list_select_related = ["company", "orderer"]
    ordering = ["-submitted_at", "-pk"]
    inlines = [StatusChangeInline]
    fields = [
        "shown_status",
        "company",
        "joint_venture_summary",
        "branch_summary",
        "orderer",
        "work_name",
        "bid_date",
        "price_yen",
        "amount_yen",
        "advance_planned",
        "contact_name",
        "contact_phone",
        "submitted_at",
        "submitted_by",
        "fee_yen",
        "valid_until",
        "approved_at",
        "printed_at",
        "decline_reason",
        "application",
        "rule_check",
    ]

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="予約番号", ordering="pk")
    def number(self, obj):
        return obj.number_display

    @admin.display(description="状態", ordering="status")
    def shown_status(self, obj):
        return obj.status_on(timezone.localdate()).label

    @admin.display(description="保証金額", ordering="amount")
    def amount_yen(self, obj):
        return yen(obj.amount) if obj.amount else "—"

    @admin.display(description="請負代金額の見込み", ordering="estimated_price")
    def price_yen(self, obj):
        return yen(obj.estimated_price) if obj.estimated_price else "—"

    @admin.display(description="予約手数料", ordering="fee")
    def fee_yen(self, obj):
        return yen(obj.fee) if obj.fee is not None else "—"

    @admin.display(description="共同企業体（構成員・出資比率）")
    def joint_venture_summary(self, obj):
        jv = obj.joint_venture
        if jv is None:
            return "—（単独）"
        members = "、".join(
            f"{m.company.name} {m.share}%" for m in jv.members.select_related("company")
        )
        return f"{jv.name}（{jv.get_kind_display()}）: {members}"

    @admin.display(description="契約営業所（受任者）")
    def branch_summary(self, obj):
        return str(obj.branch) if obj.branch_id else "本店（代表者）"

    @admin.display(description="規則の確認")
    def rule_check(self, obj):
        if obj.status != S.SUBMITTED:
            return "（審査中の予約についてのみ確認します）"
        errors = services.problems_of(obj)
        if not errors:
            return "すべての規則を満たしています。"
        return " / ".join(m for messages_ in errors.values() for m in messages_)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<id:pk>/approve/",
                wrap(require_POST(self.approve_view)),
                name="reservations_reservation_approve",
            ),
            path(
                "<id:pk>/decline/",
                wrap(require_POST(self.decline_view)),
                name="reservations_reservation_decline",
            ),
            path(
                "<id:pk>/printed/",
                wrap(require_POST(self.printed_view)),
                name="reservations_reservation_printed",
            ),
            path(
                "<id:pk>/certificate.pdf",
                wrap(self.certificate_view),
                name="reservations_reservation_certificate",
            ),
            *super().get_urls(),
        ]

    def _change_url(self, pk):
        return reverse("admin:reservations_reservation_change", args=[pk])

    def _decided(self, request, pk):
        if not self.has_change_permission(request):
            raise PermissionDenied
        return get_object_or_404(Reservation, pk=pk)

    def approve_view(self, request, pk):
        reservation = self._decided(request, pk)
        form = ApproveForm(request.POST)
        if not form.is_valid():
            messages.error(request, "予約手数料を0円以上の整数で入力してください。")
            return redirect(self._change_url(pk))
        try:
            reservation = services.approve_reservation(
                reservation=reservation, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(
                request,
                f"予約番号 {reservation.number_display} を承認しました（有効期限 "
                f"{rules.date_ja(reservation.valid_until)}）。予約証書を印刷して郵送してください。",
            )
        return redirect(self._change_url(pk))

    def decline_view(self, request, pk):
        reservation = self._decided(request, pk)
        try:
            services.decline_reservation(
                reservation=reservation, by=request.user, reason=request.POST.get("reason", "")
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, f"予約番号 {reservation.number_display} を謝絶しました。")
        return redirect(self._change_url(pk))

    def printed_view(self, request, pk):
        reservation = self._decided(request, pk)
        if services.mark_printed(reservation=reservation, by=request.user):
            messages.success(request, f"予約番号 {reservation.number_display} を印刷済にしました。")
        return redirect(self._change_url(pk))

    def certificate_view(self, request, pk):
        """The paper 予約証書 as a PDF to print (staff only; the company never gets it)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        reservation = get_object_or_404(Reservation, pk=pk, approved_at__isnull=False)
        response = HttpResponse(
            pdf.render_reservation_certificate(reservation), content_type="application/pdf"
        )
        response["Content-Disposition"] = (
            f'inline; filename="reservation-{reservation.number_display}.pdf"'
        )
        return response

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        may_change = self.has_change_permission(request, obj)
        context["can_decide"] = may_change and obj is not None and obj.can_move_to(S.DECLINED)
        context["can_mark_printed"] = (
            may_change and obj is not None and obj.status == S.APPROVED and not obj.printed_at
        )
        if context["can_decide"]:
            default = None
            if obj.bid_date:
                default = rules.default_valid_until(
                    obj.bid_date, settings.ESURE_RESERVATION_VALID_DAYS
                )
            context["approve_form"] = ApproveForm(initial={"valid_until": default})
            context["valid_days"] = settings.ESURE_RESERVATION_VALID_DAYS
        context.update(show_save=False, show_save_and_continue=False, show_delete=False)
        context["show_save_and_add_another"] = False
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)
