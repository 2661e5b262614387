"""D-Sure in admin: the access log (never a key), numbers under throttling with a button to
clear a lock, alerts, hand-overs and receipts. All read-only except the two actions."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from certificates.numbering import format_number, parse_number
from dsure import services, throttle
from dsure.models import AccessLog, Alert, LockClear, NumberLock
from esure.admin import ReadOnlyAdmin

MSG_CLEAR_NUMBER = (
    "保証契約番号を確認してください（「06-1-0001234-9」のような11桁、チェックデジットを含む）。"
)


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
        """Numbers locked now (whatever the age of the lock) and numbers with many counted
        failures, each with a clear button, and a box to clear a number typed by hand."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = [
            {"number": number, "display": format_number(number), "state": state}
            for number, state in throttle.throttled_numbers()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "入力制限中の保証契約番号",
            "rows": rows,
            "lock_at": throttle.LOCK_AT,
            "delay_after": throttle.DELAY_AFTER,
            "lock_hours": settings.ESURE_DSURE_LOCK_HOURS,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/dsure/throttled.html", context)

    def clear_view(self, request):
        if not request.user.has_perm("dsure.add_lockclear"):
            raise PermissionDenied
        parsed = parse_number(request.POST.get("number", ""))
        if parsed is None:
            messages.error(request, MSG_CLEAR_NUMBER)
        else:
            note = request.POST.get("note", "")[:1000]
            services.clear_lock(number=parsed.number, by=request.user, note=note)
            messages.success(request, f"{format_number(parsed.number)} の入力制限を解除しました。")
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


@admin.register(NumberLock)
class NumberLockAdmin(ReadOnlyAdmin):
    list_display = ["number", "at", "until"]
    search_fields = ["=number"]
    date_hierarchy = "at"
