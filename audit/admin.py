"""The audit trail in admin: staff with the view permission read it; nobody adds, changes
or deletes an event here (nor anywhere: PostgreSQL refuses it, decision 0006)."""

import json

from django.contrib import admin
from django.utils.html import format_html

from audit.models import AuditEvent
from esure.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "at", "actor", "action", "object_display"]
    list_filter = ["action"]
    search_fields = ["=object_id", "^actor"]
    ordering = ["-seq"]
    actions = None
    show_full_result_count = False  # no COUNT(*) over millions of rows per page view
    fields = [
        "seq",
        "at",
        "actor",
        "actor_id",
        "action",
        "object_type",
        "object_id",
        "data_display",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields

    @admin.display(description="対象")
    def object_display(self, obj):
        return f"{obj.object_type} #{obj.object_id}" if obj.object_type else "—"

    @admin.display(description="内容")
    def data_display(self, obj):
        text = json.dumps(obj.data, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", text)
