"""esure's admin site (sections by the work, in Japanese), the admin bases shared by the
apps, and the admin of the mail queue (django-tasks-db's model, shown in Japanese).

Records that are never edited by hand — certificate versions, logs, histories, the audit
trail — are shown to staff but offer no add, change or delete: what changes them is a
service (an admin action or button), never the admin's own form.
"""

from functools import partial

from django.contrib import admin
from django.tasks import TaskResultStatus
from django.urls import path


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


class StatusHistoryInline(ReadOnlyInline):
    """The status history (esure.workflow.StatusHistory) under its subject, statuses by their
    labels. A subclass names the `model`."""

    fields = ["at", "old", "new", "by", "note"]
    readonly_fields = fields

    @admin.display(description="変更前")
    def old(self, obj):
        return obj.get_old_status_display()

    @admin.display(description="変更後")
    def new(self, obj):
        return obj.get_new_status_display()


# The admin's first page in the order of the work (issue 20): 申込 → 保証契約 → D-Sure →
# 利用者 → 設定; inside a section, models in the order staff reach for them. Every registered
# model has its place here (tests/esure/test_admin_japanese.py): one that has none is listed
# last under OTHER, where the test sees it.
SECTIONS = [
    (
        "applications",
        "申込",
        ["applications.application", "reservations.reservation", "console.statementimport"],
    ),
    (
        "guarantees",
        "保証契約",
        [
            "certificates.guarantee",
            "certificates.certificate",
            "certificates.document",
            "certificates.work",
            "certificates.keyreissue",
            "certificates.keydisplay",
            "certificates.submission",
            "certificates.officealert",
            "certificates.refund",
            "advances.advanceaccount",
            "advances.useplan",
            "advances.withdrawal",
            "advances.deposit",
            "advances.bankimport",
            "advances.inspection",
            "claims.claim",
        ],
    ),
    (
        "dsure",
        "D-Sure（発注者の確認）",
        [
            "dsure.alert",
            "dsure.numberlock",
            "dsure.lockclear",
            "dsure.accesslog",
            "api.apitoken",
            "api.apirequest",
            "api.webhookendpoint",
            "api.webhookdelivery",
            "api.webhookevent",
            "api.webhookattempt",
            "api.webhookcursor",
        ],
    ),
    (
        "users",
        "利用者",
        [
            "accounts.company",
            "accounts.user",
            "accounts.invitation",
            "accounts.orderer",
            "accounts.ordereroffice",
            "accounts.officemembership",
            "accounts.officeinvitation",
            "accounts.bank",
            "accounts.bankbranch",
            "accounts.bankmembership",
            "accounts.bankinvitation",
            "account.emailaddress",
            "mfa.authenticator",
            "auth.group",
        ],
    ),
    (
        "settings",
        "設定",
        [
            "applications.feetable",
            "certificates.numbercounter",
            "advances.usecategory",
            "advances.evidencekind",
            "django_tasks_database.dbtaskresult",
            "audit.auditevent",
        ],
    ),
]
OTHER = "その他"


class EsureAdminSite(admin.AdminSite):
    """Django admin as surety staff use it: sections by the work (SECTIONS), in Japanese."""

    site_header = "esure 管理"
    site_title = "esure 管理"
    index_title = "保証事業会社 管理メニュー"
    index_template = "admin/esure_index.html"

    def index(self, request, extra_context=None):
        """The first page: the work queue (console.queue) above the sections."""
        from console.queue import work_queue

        extra = {"work_queue": work_queue(request, self), **(extra_context or {})}
        return super().index(request, extra)

    def get_urls(self):
        """The console's pages (業務状況, CSV downloads), behind admin_view like the rest."""
        from console import views

        wrap = self.admin_view
        return [
            path(
                "console/business/",
                wrap(partial(views.business, site=self)),
                name="console_business",
            ),
            path(
                "console/business/<slug:slug>.csv",
                wrap(partial(views.chart_csv, site=self)),
                name="console_chart_csv",
            ),
            path(
                "console/conclusions.csv",
                wrap(partial(views.conclusions_csv, site=self)),
                name="console_conclusions_csv",
            ),
            *super().get_urls(),
        ]

    def get_app_list(self, request, app_label=None):
        """The index and the sidebar: SECTIONS. An app's own page (/admin/<app>/) keeps
        Django's list of that app's models, in the sections' order."""
        app_dict = self._build_app_dict(request, app_label)
        models = {
            f"{app['app_label']}.{model['object_name'].lower()}": (app, model)
            for app in app_dict.values()
            for model in app["models"]
        }
        if app_label is not None:
            order = [key for _, _, keys in SECTIONS for key in keys]
            for app in app_dict.values():
                app["models"].sort(
                    key=lambda m: _position(order, f"{app['app_label']}.{m['object_name'].lower()}")
                )
            return list(app_dict.values())
        sections = []
        for slug, name, keys in SECTIONS:
            present = [models.pop(key) for key in keys if key in models]
            if present:
                sections.append(_section(slug, name, present))
        if models:
            sections.append(_section("other", OTHER, list(models.values())))
        return sections


def _position(order, key):
    return order.index(key) if key in order else len(order)


def _section(slug, name, entries):
    """One section of the index in the shape of Django's app_list (admin/app_list.html);
    its heading links to the page of its first model's app."""
    first_app = entries[0][0]
    return {
        "name": name,
        "app_label": slug,
        "app_url": first_app["app_url"],
        "has_module_perms": True,
        "models": [model for _, model in entries],
    }


class TaskStatusFilter(admin.SimpleListFilter):
    title = "状態"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return TaskResultStatus.choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class MailQueueAdmin(ReadOnlyAdmin):
    """メール送信キュー: each row is one attempt to send one mail (esure/mail.py). A row 失敗
    is a mail that failed for good (its last attempt); the earlier attempts end 完了 with
    "retry scheduled". Bodies never carry a key (tests/certificates/test_no_key_leak.py)."""

    list_display = ["subject", "recipients", "attempt", "state", "queued_at", "ended_at"]
    list_filter = [TaskStatusFilter]
    ordering = ["-enqueued_at"]
    fields = [
        "subject",
        "recipients",
        "attempt",
        "state",
        "queued_at",
        "began_at",
        "ended_at",
        "error",
    ]
    readonly_fields = fields

    def _kwargs(self, obj):
        return (obj.args_kwargs or {}).get("kwargs", {})

    @admin.display(description="件名")
    def subject(self, obj):
        return self._kwargs(obj).get("subject", obj.task_path)

    @admin.display(description="宛先")
    def recipients(self, obj):
        return "、".join(self._kwargs(obj).get("recipients", []))

    @admin.display(description="試行")
    def attempt(self, obj):
        return f"{self._kwargs(obj).get('attempt', 1)}回目"

    @admin.display(description="状態", ordering="status")
    def state(self, obj):
        return TaskResultStatus(obj.status).label

    @admin.display(description="登録日時", ordering="enqueued_at")
    def queued_at(self, obj):
        return obj.enqueued_at

    @admin.display(description="開始日時")
    def began_at(self, obj):
        return obj.started_at

    @admin.display(description="終了日時", ordering="finished_at")
    def ended_at(self, obj):
        return obj.finished_at

    @admin.display(description="エラー")
    def error(self, obj):
        return obj.exception_class_path or "—"


class AuthenticatorAdmin(ReadOnlyAdmin):
    """多要素認証: the TOTP devices and recovery codes of each user, to read (a lost device
    is replaced by its user through allauth's pages, never edited here)."""

    list_display = ["owner", "kind", "registered_at", "last_used"]
    list_select_related = ["user"]
    fields = list_display
    readonly_fields = list_display
    search_fields = ["user__email"]

    @admin.display(description="利用者", ordering="user__email")
    def owner(self, obj):
        return obj.user

    @admin.display(description="種類", ordering="type")
    def kind(self, obj):
        return obj.get_type_display()

    @admin.display(description="登録日時", ordering="created_at")
    def registered_at(self, obj):
        return obj.created_at

    @admin.display(description="最終利用日時", ordering="last_used_at")
    def last_used(self, obj):
        return obj.last_used_at
