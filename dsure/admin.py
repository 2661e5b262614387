"""D-Sure in admin: the access log (never a key), numbers under throttling with a button to
clear a lock, alerts, hand-overs and receipts. All read-only except the two actions."""

import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from certificates.numbering import format_number
from dsure import services, throttle
from dsure.models import AccessLog, Alert, Handover, LockClear, Receipt
from esure.admin import ReadOnlyAdmin

# How far back the throttled list looks for candidates (their exact state is recomputed).
THROTTLED_LOOKBACK = datetime.timedelta(days=30)


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    change_list_template = "admin/dsure/accesslog/change_list.html"
    list_display = ["at", "ip", "number_display", "outcome", "office_user"]
    list_filter = ["outcome", "at"]
    search_fields = ["=number", "=ip"]
    date_hierarchy = "at"
    list_select_related = ["office_user"]
    show_full_result_count = False  # no COUNT(*) over millions of rows per page view

    @admin.display(description="保証契約番号", ordering="number")
    def number_display(self, obj):
        return format_number(obj.number)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("throttled/", wrap(self.throttled_view), name="dsure_accesslog_throttled"),
            path(
                "throttled/clear/",
                wrap(require_POST(self.clear_view)),
                name="dsure_accesslog_clear",
            ),
            *super().get_urls(),
        ]

    def throttled_view(self, request):
        """Numbers whose consecutive failures reach the delay (10) or the lock (100)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        since = timezone.now() - THROTTLED_LOOKBACK
        candidates = (
            AccessLog.objects.filter(outcome=AccessLog.Outcome.FAILURE, at__gt=since)
            .values("number")
            .annotate(n=Count("pk"))
            .filter(n__gte=throttle.DELAY_AFTER)
            .order_by("-n")[:200]
        )
        states = throttle.number_states(row["number"] for row in candidates)
        rows = [
            {
                "number": number,
                "display": format_number(number),
                "state": state,
                "until": state.refused_until(),
            }
            for number, state in sorted(states.items(), key=lambda item: -item[1].failures)
            if state.failures >= throttle.DELAY_AFTER
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "入力制限中の保証契約番号",
            "rows": rows,
            "lock_at": throttle.LOCK_AT,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/dsure/throttled.html", context)

    def clear_view(self, request):
        if not request.user.has_perm("dsure.add_lockclear"):
            raise PermissionDenied
        number = request.POST.get("number", "")
        if len(number) == 11 and number.isdigit():
            services.clear_lock(number=number, by=request.user, note=request.POST.get("note", ""))
            messages.success(request, f"{format_number(number)} の入力制限を解除しました。")
        return redirect(reverse("admin:dsure_accesslog_throttled"))


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "subject", "detail", "acknowledged_at"]
    list_filter = ["kind", ("acknowledged_at", admin.EmptyFieldListFilter)]
    actions = ["acknowledge"]

    def has_change_permission(self, request, obj=None):
        # For the acknowledge action only; every field is read-only.
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def get_readonly_fields(self, request, obj=None):
        return ["kind", "subject", "detail", "at", "acknowledged_at"]

    @admin.action(description="確認済にする", permissions=["change"])
    def acknowledge(self, request, queryset):
        n = queryset.filter(acknowledged_at=None).update(acknowledged_at=timezone.now())
        self.message_user(request, f"{n}件を確認済にしました。")


@admin.register(LockClear)
class LockClearAdmin(ReadOnlyAdmin):
    list_display = ["at", "number", "by", "note"]


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdmin):
    list_display = ["at", "guarantee", "office", "by"]
    list_select_related = ["guarantee", "office", "office__orderer", "by"]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["at", "guarantee", "certificate_version", "office", "by", "note"]
    list_select_related = ["guarantee", "certificate", "office", "office__orderer", "by"]

    @admin.display(description="版")
    def certificate_version(self, obj):
        return format_html("第{}版", obj.certificate.version)
