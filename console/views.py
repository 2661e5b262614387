"""The console's pages in admin: 業務状況 (charts) and the CSV downloads. Wrapped by the
admin site (esure.admin.EsureAdminSite.get_urls): staff only, MFA as everywhere in admin."""

import csv
import datetime
import io

from django import forms
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from console import charts, reports, svg

MSG_MONTH = "年月を選んでください（例: 2026-11）。"


class MonthForm(forms.Form):
    month = forms.CharField(
        label="締結月",
        widget=forms.TextInput(attrs={"type": "month"}),
        error_messages={"required": MSG_MONTH},
    )

    def clean_month(self):
        try:
            return datetime.datetime.strptime(self.cleaned_data["month"], "%Y-%m").date()
        except ValueError as error:
            raise forms.ValidationError(MSG_MONTH) from error


def _csv_response(text, filename):
    response = HttpResponse(text.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
def business(request, site):
    """業務状況: each chart as SVG with its numbers in a table, and the monthly report."""
    drawn = []
    for build in charts.CHARTS.values():
        chart = build()
        drawn.append({"chart": chart, "svg": svg.render(chart), "rows": chart.rows()})
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")
    form = MonthForm(request.GET or None, initial={"month": last_month})
    context = {
        **site.each_context(request),
        "title": "業務状況",
        "charts": drawn,
        "month_form": form,
    }
    return TemplateResponse(request, "admin/console/business.html", context)


@require_safe
def chart_csv(request, site, slug):
    build = charts.CHARTS.get(slug)
    if build is None:
        raise Http404
    chart = build()
    out = io.StringIO()
    out.write(reports.BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["", *(name for name, _ in chart.series)])
    for row in chart.rows():
        writer.writerow(["" if value is None else value for value in row])
    return _csv_response(out.getvalue(), f"{slug}-{timezone.localdate():%Y%m%d}.csv")


@require_safe
def conclusions_csv(request, site):
    """The monthly conclusions CSV (?month=2026-11); a bad month goes back to the page."""
    form = MonthForm(request.GET)
    if not form.is_valid():
        context = {
            **site.each_context(request),
            "title": "業務状況",
            "charts": [],
            "month_form": form,
        }
        return TemplateResponse(request, "admin/console/business.html", context, status=400)
    month = form.cleaned_data["month"]
    return _csv_response(reports.conclusions_csv(month), f"conclusions-{month:%Y-%m}.csv")
