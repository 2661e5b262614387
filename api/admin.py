"""The API in admin: office tokens (staff may revoke any, never see one) and the API's
access log. Read-only except the revoke action, which calls the service."""

from django.contrib import admin, messages

from api import services
from api.models import (
    ApiRequest,
    ApiToken,
    WebhookAttempt,
    WebhookCursor,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from esure.admin import ReadOnlyAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "prefix",
        "office",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["office__orderer"]
    search_fields = ["name", "prefix", "office__name"]
    list_select_related = ["office__orderer", "created_by"]
    exclude = ["digest"]
    actions = ["revoke"]

    def has_revoke_permission(self, request):
        # Revoking is a change (decision 0009: a permission per staff action).
        return request.user.has_perm("api.change_apitoken")

    @admin.action(description="選択したAPIトークンを失効させる", permissions=["revoke"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.revoke_token(token=token, by=request.user)
            count += 1
        messages.success(request, f"{count} 件のAPIトークンを失効させました。")


@admin.register(ApiRequest)
class ApiRequestAdmin(ReadOnlyAdmin):
    list_display = ["at", "token", "method", "operation", "number", "status", "ip"]
    list_filter = ["operation", "status"]
    search_fields = ["=number", "=ip", "token__prefix"]
    date_hierarchy = "at"
    list_select_related = ["token"]
    show_full_result_count = False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "office", "created_at", "failing_since", "disabled_at"]
    list_select_related = ["office__orderer"]
    exclude = ["salt"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "type", "msg_id", "office", "source"]
    list_filter = ["type"]
    list_select_related = ["office"]
    show_full_result_count = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event", "endpoint", "status", "next_attempt_at"]
    list_filter = ["status"]
    list_select_related = ["event", "endpoint"]
    show_full_result_count = False


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = ["at", "delivery", "number", "response_status", "error", "duration_ms"]
    list_select_related = ["delivery__event", "delivery__endpoint"]
    show_full_result_count = False


@admin.register(WebhookCursor)
class WebhookCursorAdmin(ReadOnlyAdmin):
    list_display = ["last_seq"]
