"""The API in admin: office tokens (staff may revoke any, never see one) and the API's
access log. Read-only except the revoke action, which calls the service."""

from django.contrib import admin, messages

from api import services
from api.models import ApiRequest, ApiToken
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
