"""Admin bases shared by the apps (esure registers no model of its own).

Records that are never edited by hand — certificate versions, logs, histories, the audit
trail — are shown to staff but offer no add, change or delete: what changes them is a
service (an admin action or button), never the admin's own form.
"""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """A list and a detail page to read; no add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent (history, items, versions); no add, change or delete."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
