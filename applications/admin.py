"""Staff review in Django admin: a queue, read-only content and status, and the three
decisions (差戻し, 謝絶, 承認) as buttons that call the services."""

import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST

from applications import fees, services, validation
from applications.changes.forms import APPLICATION_FIELDS as CHANGE_FORM_FIELDS
from applications.models import (
    IN_REVIEW,
    Application,
    ApplicationItem,
    FeeBracket,
    FeeReceipt,
    FeeTable,
    StatusChange,
)
from certificates import selectors as registry
from certificates.content import contractor_content, contractor_lines
from certificates.services import StorageError
from esure.admin import ReadOnlyInline, StatusHistoryInline
from esure.choices import GuaranteeKind
from esure.wareki import to_wareki, yen

logger = logging.getLogger(__name__)


class ItemInline(ReadOnlyInline):
    model = ApplicationItem
    fields = ["kind", "amount_yen"]
    readonly_fields = fields

    @admin.display(description="保証金額")
    def amount_yen(self, obj):
        return yen(obj.amount) if obj.amount else "—"


class StatusChangeInline(StatusHistoryInline):
    model = StatusChange


class FeeReceiptForm(forms.Form):
    received_on = forms.DateField(label="入金日", widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.IntegerField(label="入金額（円）", min_value=1)
    method = forms.ChoiceField(label="入金方法", choices=FeeReceipt.Method.choices)
    confirm_mismatch = forms.BooleanField(label="金額の相違を確認した", required=False)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("return", "差戻し"), ("decline", "謝絶"), ("approve", "承認")]
    )
    reason = forms.CharField(required=False, widget=forms.Textarea)


# What an approval led to: a first application waits for its fee; a change without a fee
# is concluded at once.
AFTER_APPROVAL = {
    Application.Status.APPROVED: "（保証料の入金待ち）",
    Application.Status.CONCLUDED: "（変更を締結し、新しい版の電子証書を発行しました）",
}

# How the admin names a change's fee (fees.ChangeFee.kind).
CHANGE_FEE_LABELS = {"additional": "追加保証料", "refund": "返還保証料"}


def _wareki(day):
    """A date of the work as its documents print it (令和8年11月20日), or — when not entered."""
    return to_wareki(day) if day else "—"


def _concluded(guarantee):
    """A guarantee as the success message names it: its number, and its version once changed."""
    version = registry.current_terms(guarantee).version
    return guarantee.number_display + (f" 第{version}版" if version > 1 else "")


DECISIONS = {
    "return": (services.return_application, "差し戻しました"),
    "decline": (services.decline_application, "謝絶しました"),
    "approve": (services.approve_application, "承認しました"),
}


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    change_form_template = "admin/applications/application/change_form.html"
    list_display = [
        "number",
        "status",
        "menu",
        "company",
        "work_name",
        "orderer",
        "amounts",
        "delivery",
        "submitted_at",
        "submitted_by",
    ]
    list_display_links = ["number", "work_name"]
    list_filter = ["status", "menu", "work__orderer", "items__kind", "delivery", "submitted_at"]
    search_fields = ["company__name", "work__name", "work__work_number", "=pk"]
    list_select_related = ["company", "work", "work__orderer", "submitted_by"]
    ordering = ["-submitted_at", "-pk"]
    date_hierarchy = "submitted_at"
    inlines = [ItemInline, StatusChangeInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "status",
                    "menu",
                    "company",
                    "created_by",
                    "created_at",
                    "submitted_at",
                    "submitted_by",
                    "updated_at",
                ]
            },
        ),
        ("保証契約者", {"fields": ["contractor"]}),
        ("工事請負契約", {"fields": ["work_summary"]}),
        (
            "受取方法・連絡先",
            {
                "fields": [
                    "delivery",
                    "terms_confirmed",
                    "advance_planned",
                    "contact_name",
                    "contact_phone",
                    "message",
                ]
            },
        ),
        (
            "中間前払金",
            {
                "fields": [
                    "certified_on",
                    "certification_number",
                    "progress_percent",
                    "partial_payment_requested",
                ],
                "classes": ["collapse"],
            },
        ),
        ("審査の参考", {"fields": ["rule_check", "fee_estimates"]}),
    ]
    change_fieldsets = [
        (
            None,
            {
                "fields": [
                    "status",
                    "menu",
                    "company",
                    "created_by",
                    "created_at",
                    "submitted_at",
                    "submitted_by",
                    "updated_at",
                ]
            },
        ),
        ("保証契約者", {"fields": ["contractor"]}),
        (
            "変更の内容",
            # The changed guarantee, then what the clerk's change form fills in.
            {"fields": ["guarantee", *CHANGE_FORM_FIELDS]},
        ),
        ("工事請負契約（当初）", {"fields": ["work_summary"]}),
        ("審査の参考", {"fields": ["rule_check", "fee_estimates"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.menu == Application.Menu.CHANGE:
            return self.change_fieldsets
        return self.fieldsets

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("items")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Application._meta.fields] + [
            "contractor",
            "work_summary",
            "rule_check",
            "fee_estimates",
        ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="申込番号", ordering="pk")
    def number(self, obj):
        return obj.pk

    @admin.display(description="工事名", ordering="work__name")
    def work_name(self, obj):
        return obj.work.name or "（未入力）"

    @admin.display(description="発注者", ordering="work__orderer__name")
    def orderer(self, obj):
        return obj.work.orderer.name if obj.work.orderer_id else "—"

    @admin.display(description="保証金額")
    def amounts(self, obj):
        return " / ".join(
            f"{item.get_kind_display()} {yen(item.amount)}"
            if item.amount
            else item.get_kind_display()
            for item in obj.items.all()
        )

    @admin.display(description="保証契約者")
    def contractor(self, obj):
        w = obj.work
        rows = contractor_lines(contractor_content(obj.company, w.branch, w.joint_venture))
        return format_html_join("", "<div><b>{}</b>: {}</div>", rows)

    @admin.display(description="工事")
    def work_summary(self, obj):
        w = obj.work
        rows = [
            ("発注者", f"{w.orderer or '—'} {w.office.name if w.office_id else ''}"),
            ("工事番号・工事名", f"{w.work_number} {w.name}"),
            ("工事場所", w.location),
            (
                "区分・契約方法",
                f"{w.get_category_display()}・{w.get_contract_method_display()}"
                + ("（低入札価格調査）" if w.low_bid else ""),
            ),
            ("請負代金額", yen(w.price) if w.price else "—"),
            (
                "契約日",
                f"{_wareki(w.contract_date)}{'（予定）' if w.contract_date_planned else ''}",
            ),
            ("工期", f"{_wareki(w.start_date)} 〜 {_wareki(w.end_date)}"),
        ]
        return format_html_join("", "<div><b>{}</b>: {}</div>", rows)

    @admin.display(description="規則の確認")
    def rule_check(self, obj):
        if obj.status not in IN_REVIEW:
            return "（審査中の申込についてのみ確認します）"
        errors = validation.application_errors(obj)
        if not errors:
            return "すべての規則を満たしています。"
        return format_html_join(
            "", "<div>{}</div>", ((m,) for messages_ in errors.values() for m in messages_)
        )

    @admin.display(description="保証料の目安")
    def fee_estimates(self, obj):
        expected = fees.expected_fee(obj)
        if expected.change is not None:
            label = CHANGE_FEE_LABELS.get(expected.change.kind)
            return f"{label}: {yen(expected.change.fee)}" if label else "保証料の増減なし"
        rows = [
            (
                GuaranteeKind(kind).label,
                yen(q.fee) + ("（デモ料率）" if q.is_demo else "") if q else "—",
            )
            for kind, q in expected.quotes.items()
        ]
        return format_html_join("", "<div>{}: {}</div>", rows)

    def get_urls(self):
        review = self.admin_site.admin_view(require_POST(self.review_view))
        fee = self.admin_site.admin_view(require_POST(self.fee_view))
        return [
            path("<id:pk>/review/", review, name="applications_application_review"),
            path("<id:pk>/fee/", fee, name="applications_application_fee"),
            *super().get_urls(),
        ]

    def fee_view(self, request, pk):
        """保証料入金: recording it concludes every guarantee of the application."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        application = get_object_or_404(Application, pk=pk)
        change_url = reverse("admin:applications_application_change", args=[pk])
        form = FeeReceiptForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                messages.error(request, f"{label}: {' '.join(errors)}")
            return redirect(change_url)
        try:
            guarantees = services.record_fee_receipt(
                application=application, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(change_url)
        except StorageError as error:  # logged where it happened
            messages.error(request, str(error))
            return redirect(change_url)
        except Exception as error:  # e.g. a PDF that did not render: nothing was kept
            logger.exception("conclusion of application %s failed", pk)
            messages.error(
                request,
                f"締結できませんでした（すべて取り消しました）: {type(error).__name__}: {error}",
            )
            return redirect(change_url)
        numbers = "、".join(_concluded(g) for g in guarantees)
        messages.success(request, f"保証契約を締結しました: {numbers}")
        return redirect(change_url)

    def review_view(self, request, pk):
        if not self.has_change_permission(request):
            raise PermissionDenied
        application = get_object_or_404(Application, pk=pk)
        form = ReviewForm(request.POST)
        change_url = reverse("admin:applications_application_change", args=[pk])
        if not form.is_valid():
            messages.error(request, "判断を選んでください。")
            return redirect(change_url)
        service, done = DECISIONS[form.cleaned_data["decision"]]
        kwargs = {"application": application, "by": request.user}
        reason = form.cleaned_data["reason"]
        if form.cleaned_data["decision"] == "approve":
            kwargs["note"] = reason
        else:
            kwargs["reason"] = reason
        try:
            service(**kwargs)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            application.refresh_from_db()
            after = ""
            if form.cleaned_data["decision"] == "approve":
                after = AFTER_APPROVAL.get(application.status, "")
            messages.success(request, f"申込番号 {pk} を{done}{after}。")
        return redirect(change_url)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["review_form"] = ReviewForm()
        # The review buttons and the fee box appear where the status table allows their move.
        context["can_review"] = obj is not None and obj.can_move_to(Application.Status.APPROVED)
        context["can_record_fee"] = obj is not None and obj.can_move_to(
            Application.Status.CONCLUDED
        )
        if context["can_record_fee"]:
            fee = fees.expected_fee(obj, timezone.localdate())
            expected = None if fee.problem else fee.due
            context["fee_problem"] = fee.problem
            context["fee_form"] = FeeReceiptForm(
                initial={"received_on": timezone.localdate(), "amount": expected}
            )
            context["expected_fee"] = expected
        # Content is read-only: decisions go through the review buttons, never "save".
        context.update(show_save=False, show_save_and_continue=False, show_delete=False)
        context["show_save_and_add_another"] = False
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


class BracketInline(admin.TabularInline):
    model = FeeBracket
    extra = 1


@admin.register(FeeTable)
class FeeTableAdmin(admin.ModelAdmin):
    list_display = ["kind", "name", "valid_from", "is_demo"]
    list_filter = ["kind", "is_demo"]
    inlines = [BracketInline]
