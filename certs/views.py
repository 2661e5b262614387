"""電子証書の確認: the contractor's view of its concluded guarantees (same login).

The pages read the registry (certificates); every object goes through the access helper
get_guarantee_for(company, number): another company's guarantee is a 404.
"""

import functools
from html import escape

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts.decorators import member_required
from accounts.models import OrdererOffice
from certificates import pdf
from certificates import selectors as registry
from certificates import services as registry_services
from certificates.models import Document, Guarantee, KeyDisplay, Submission
from certificates.numbering import format_number
from esure import kept
from esure.choices import GuaranteeKind
from esure.converters import parse_id
from esure.pagination import page_of
from esure.storage import stored_file_response
from esure.templatetags import wareki, yen

# A copy that could not be made on its first download (decision 0052): nothing was stored.
MSG_DOCUMENT_UNAVAILABLE = (
    "{label}のPDFを作成できませんでした（eシール・タイムスタンプ・保管先のいずれかが一時的に"
    "利用できません）。しばらくしてから、もう一度お試しください。"
)
_SAMPLE_NUMBER = "00000000000"  # stands for each row's number in its detail link
_KIND_LABELS = dict(GuaranteeKind.choices)


def _no_store(response):
    """Pages and files that carry the key are never cached anywhere (their Referrer-Policy,
    same-origin, is the site's: settings.SECURE_REFERRER_POLICY)."""
    response["Cache-Control"] = "no-store"
    return response


# A row of the list, as certs/index.html wrote it with a {% for %} (the same bytes): each
# value escaped as the template escaped it (decision 0047, as menu 4's rows).
_ROW = (
    "\n    <tr>\n"
    '      <td><a href="{}" class="mono">{}</a></td>\n'
    "      <td>{}</td>\n"
    "      <td>{}</td>\n"
    "      <td>{}</td>\n"
    '      <td class="num">{}</td>\n'
    '      <td><span class="badge">{}</span>{}</td>\n'
    "      <td>{}</td>\n"
    "    </tr>\n  "
)
_PAPER = " <small>書面交付</small>"


def _rows_html(rows):
    """The markup of 電子証書の確認's rows (labelled by registry.add_row_status), each row made
    by _row_html, which keeps it under what it shows (decision 0059). One reverse() for the
    page, not one per row."""
    sample = reverse("certs:detail", args=[_SAMPLE_NUMBER])
    return "".join(
        _row_html(
            sample,
            row["number"],
            row["kind"],
            row["delivery"],
            row["work_name"],
            row["orderer_name"],
            row["current_amount"],
            row["status"],
            row["concluded_at"],
        )
        for row in rows
    )


@functools.lru_cache(maxsize=kept.LIST_ROWS_KEPT)
def _row_html(sample, number, kind, delivery, work_name, orderer_name, amount, status, concluded):
    """One row's markup in one str.format, each value escaped as the template escaped it (the
    template's lookups, filters and escaping over 20 rows were most of the page's CPU:
    bench/README.md, issue 22). Made once per process for the same values — every value the
    row shows, the link's pattern and today's status among them (decision 0059)."""
    return _ROW.format(
        escape(sample.replace(_SAMPLE_NUMBER, number)),
        escape(format_number(number)),
        escape(_KIND_LABELS.get(kind, kind)),
        escape(work_name),
        escape(orderer_name),
        escape(yen(amount)),
        escape(status),
        _PAPER if delivery == Guarantee.Delivery.PAPER else "",
        escape(wareki(concluded)),
    )


@member_required
def index(request):
    page = page_of(request, registry.guarantees_of(request.membership.company))
    rows = registry.add_row_status(page.object_list)
    # The page around the rows kept per process for what it shows (decision 0058): the
    # member's header, and whether there is any row; the rows and page links are slots.
    context = {"guarantees": bool(rows), "rows_html": _ROWS_SLOT, "page": {"nav": _NAV_SLOT}}
    # Every value in a row's markup is escaped by _row_html; page_of escapes the page links.
    values = {_ROWS_SLOT: _rows_html(rows), _NAV_SLOT: page.nav}
    key = (kept.member_frame(request), bool(rows))
    return kept.page(request, _pages, key, "certs/index.html", context, values)


# 電子証書の確認's page around its rows, per member header (decision 0058).
_pages = kept.KeptPages(size=kept.LIST_PAGES_KEPT)
_ROWS_SLOT = kept.slot("rows")
_NAV_SLOT = kept.slot("nav")


@member_required
def detail(request, number):
    company = request.membership.company
    guarantee = registry.get_guarantee_readable_by(company, number)
    versions = registry.versions_of(guarantee)
    current = versions[-1]
    submissions = registry.submissions_of(guarantee)
    context = {
        "guarantee": guarantee,
        "versions": versions,
        "current": current,
        # Each version's three PDFs: stored, or made on their first download (decision 0052).
        "document_kinds": Document.Kind.choices,
        "status": registry.status_of_guarantee(guarantee, current),
        "key_shown": KeyDisplay.objects.filter(guarantee=guarantee).order_by("-at").first(),
        # What the orderer did with each version: 提出済 → 閲覧済 → 受領 / 返戻 (and why).
        "submissions": submissions,
        "returned": any(s.status == Submission.Status.RETURNED for s in submissions),
        "handover_offices": _handover_offices(guarantee),
        "default_office": registry.submission_office(guarantee),
        # A JV member other than the 代表者 reads only (no key, no hand-over, no change).
        "read_only": guarantee.company_id != company.pk,
        # 前払金の返還 after a 減額 (decision 0026): what to return, by when, and whether the
        # orderer has recorded it.
        "refund_list": registry.refunds_in(versions),
    }
    context.update(pdf.certificate_context(current))
    return render(request, "certs/detail.html", context)


@require_POST
@member_required
@reauthentication_required
def show_key(request, number):
    """認証キーの表示: shows the key once per request, records who saw it (not the key). The
    password is asked again first (allauth's reauthentication; the POST resumes after it)."""
    guarantee = registry.get_guarantee_for(request.membership.company, number)
    if not guarantee.has_key:
        return render(request, "certs/no_key.html", {"guarantee": guarantee}, status=404)
    registry_services.record_key_display(
        guarantee=guarantee, user=request.user, via=KeyDisplay.Via.SCREEN
    )
    context = {"guarantee": guarantee, "key": registry_services.current_key(guarantee)}
    return _no_store(render(request, "certs/key.html", context))


@require_POST
@member_required
@reauthentication_required
def key_notice(request, number):
    """「電子証書閲覧用『認証キー』等のお知らせ」 PDF, rendered on demand. POST with CSRF, like
    認証キーの表示: each download records a key display, so a link on another site must not."""
    guarantee = registry.get_guarantee_for(request.membership.company, number)
    if not guarantee.has_key:
        return render(request, "certs/no_key.html", {"guarantee": guarantee}, status=404)
    current = registry.versions_of(guarantee)[-1]
    office = registry.submission_office(guarantee)
    data = pdf.render_key_notice(
        guarantee=guarantee,
        certificate=current,
        key=registry_services.current_key(guarantee),
        orderer=guarantee.orderer,
        office=office,
        channels=[c.label for c in guarantee.orderer.channels_for(guarantee.kind)],
        today=timezone.localdate(),
    )
    registry_services.record_key_display(
        guarantee=guarantee, user=request.user, via=KeyDisplay.Via.KEY_NOTICE
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="key-notice-{guarantee.number_display}.pdf"'
    )
    return _no_store(response)


@require_safe
@member_required
def document(request, number, version, kind):
    """A stored PDF (保証証書, お客様控え, 保証料計算書) of one version: the original bytes; a
    copy the worker has not produced yet is made now (decision 0052). If it cannot be made
    (the seal, the TSA or the store is down), back to the guarantee's page with the reason."""
    if kind not in Document.Kind.values:
        return HttpResponse(status=404)
    guarantee = registry.get_guarantee_readable_by(request.membership.company, number)
    try:
        doc = registry_services.document_for_download(
            guarantee=guarantee, version=version, kind=kind
        )
    except registry_services.StorageError:
        messages.error(request, MSG_DOCUMENT_UNAVAILABLE.format(label=Document.Kind(kind).label))
        return redirect("certs:detail", guarantee.number)
    filename = f"{guarantee.number_display}-v{version}-{kind}.pdf"
    return stored_file_response(doc.file, content_type="application/pdf", filename=filename)


def _handover_offices(guarantee):
    """The orderer's offices that accept an electronic hand-over of this guarantee."""
    offices = OrdererOffice.objects.filter(orderer=guarantee.orderer).order_by("pk")
    return [o for o in offices if registry_services.can_hand_over(guarantee, o)]


@require_POST
@member_required
def hand_over(request, number):
    """発注者へ電子で提出: the chosen office may open the certificate without the key."""
    guarantee = registry.get_guarantee_for(request.membership.company, number)
    office = get_object_or_404(OrdererOffice, pk=parse_id(request.POST.get("office", "")))
    try:
        registry_services.hand_over(
            guarantee=guarantee,
            office=office,
            by=request.user,
            note=request.POST.get("note", "")[:1000],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"{office} へ電子で提出しました。受領されるとこの画面に表示されます。"
        )
    return redirect("certs:detail", number)
