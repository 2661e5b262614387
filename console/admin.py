"""入出金明細の取込 in admin: upload the bank's statement, read the proposed matches, conclude
the confirmed ones (console.statements; decision 0021)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from console import statements
from console.models import StatementCredit, StatementImport
from esure.admin import ReadOnlyAdmin
from esure.wareki import to_wareki, yen

Outcome = StatementCredit.Outcome
MSG_NOTHING_CHOSEN = "締結する入金を選んでください。"


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label="入出金明細ファイル（全銀協 入出金取引明細: 固定長 200 バイトまたは CSV）"
    )


@admin.register(StatementImport)
class StatementImportAdmin(ReadOnlyAdmin):
    list_display = ["name", "account", "period", "counts", "imported_at", "imported_by"]
    list_select_related = ["imported_by"]
    ordering = ["-imported_at"]
    change_form_template = "admin/console/statementimport/change_form.html"
    change_list_template = "admin/console/statementimport/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("credits")

    @admin.display(description="勘定日")
    def period(self, obj):
        return f"{to_wareki(obj.period_from)} 〜 {to_wareki(obj.period_to)}"

    @admin.display(description="入金の照合結果")
    def counts(self, obj):
        tally = {}
        for credit in obj.credits.all():
            tally[credit.get_outcome_display()] = tally.get(credit.get_outcome_display(), 0) + 1
        return "、".join(f"{label} {n}件" for label, n in tally.items())

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "upload/",
                wrap(require_http_methods(["GET", "POST"])(self.upload_view)),
                name="console_statementimport_upload",
            ),
            path(
                "<int:pk>/conclude/",
                wrap(require_POST(self.conclude_view)),
                name="console_statementimport_conclude",
            ),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def upload_view(self, request):
        """Read a statement file: its credits with their proposed matches (nothing is
        concluded here)."""
        if not request.user.has_perm("applications.change_application"):
            raise PermissionDenied
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                record = statements.import_statement(
                    name=upload.name, data=upload.read(), by=request.user
                )
            except ValidationError as error:
                for message in error.message_dict.get("file", error.messages):
                    form.add_error("file", message)
            else:
                messages.success(
                    request,
                    "入出金明細を読みました。照合結果を確かめて、締結する入金を選んでください。",
                )
                return redirect("admin:console_statementimport_change", record.pk)
        context = self._context(request, title="入出金明細の取込", form=form)
        return TemplateResponse(request, "admin/console/statementimport/upload.html", context)

    def conclude_view(self, request, pk):
        """Conclude the chosen 照合済 credits, each through the 保証料入金 service."""
        if not request.user.has_perm("applications.change_application"):
            raise PermissionDenied
        record = get_object_or_404(StatementImport, pk=pk)
        chosen = [int(v) for v in request.POST.getlist("credit") if v.isdigit()]
        ids = list(record.credits.filter(pk__in=chosen).values_list("pk", flat=True))
        if not ids:
            messages.error(request, MSG_NOTHING_CHOSEN)
            return redirect("admin:console_statementimport_change", pk)
        concluded, refused = statements.conclude_credits(credit_ids=ids, by=request.user)
        for credit, guarantees in concluded:
            numbers = "、".join(g.number_display for g in guarantees)
            messages.success(
                request,
                f"{credit.line}行目 {yen(credit.amount)}: 申込番号 {credit.application_id} を"
                f"締結しました（{numbers}）。",
            )
        for credit, message in refused:
            messages.error(request, f"{credit.line}行目: 締結できませんでした: {message}")
        return redirect("admin:console_statementimport_change", pk)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        credits = list(obj.credits.select_related("application__company")) if obj else []
        context["credits"] = credits
        context["proposed"] = [c for c in credits if c.outcome == Outcome.MATCHED]
        context["can_conclude"] = request.user.has_perm("applications.change_application")
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)
