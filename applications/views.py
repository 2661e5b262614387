import functools
from html import escape

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.decorators import verified_member_required
from accounts.models import Orderer
from applications import drafts, fees, selectors, services, validation
from applications.changes import views as changes
from applications.drafts import MSG_ALREADY_SUBMITTED, MSG_SAVED_NOT_SUBMITTED, MSG_SUBMITTED
from applications.forms import ApplicationForm, new_client_token
from applications.models import Application
from certificates.models import Work
from esure import kept
from esure.choices import GuaranteeKind
from esure.converters import parse_id
from esure.pagination import page_of
from esure.templatetags import yen

Menu = Application.Menu
# The menus whose form is ApplicationForm; menu 5 is applications.changes.
FORM_MENUS = (Menu.ADVANCE_CONTRACT, Menu.ADVANCE_AFTER_CONTRACT, Menu.INTERMEDIATE)
MSG_WITHDRAWN = "お申込みを取り下げました。"


def _eligible_work(company, menu, work_pk):
    works = (
        selectors.works_for_advance(company)
        if menu == Menu.ADVANCE_AFTER_CONTRACT
        else selectors.works_for_intermediate(company)
    )
    return get_object_or_404(works, pk=work_pk)


def _form_page(request, form, *, menu, work=None, application=None, status=200):
    company = request.membership.company
    preview = form.unsaved(company, work) if form.is_bound and form.is_valid() else None
    shown_work = (
        work or (application.work if application else None) or (preview.work if preview else None)
    )
    orderers = list(
        Orderer.objects.order_by("prefecture", "name").prefetch_related("submission_channels")
    )
    shown_orderer = shown_work.orderer if shown_work and shown_work.orderer_id else None
    context = {
        "form": form,
        "menu": Menu(menu),
        "work": work,
        "application": application,
        "limits": validation.limits(shown_work) if shown_work else {},
        "terms_names": {o.pk: o.electronic_terms_name for o in orderers},
        "terms_name": shown_orderer.electronic_terms_name if shown_orderer else "",
        # How the guarantee reaches the orderer (esure's 受信箱 or the key path), per kind.
        "channel_notes": {o.pk: o.channel_summary() for o in orderers},
        "channel_note": next((o.channel_summary() for o in orderers if o == shown_orderer), ""),
    }
    return render(request, "applications/form.html", context, status=status)


@verified_member_required
def new(request, menu, work_pk=None):
    """Menus 1–3: a new application (menu 2/3 for a work chosen from the list)."""
    if menu not in FORM_MENUS:
        raise Http404
    company = request.membership.company
    if request.method == "POST":
        # A second POST of this form (after a refused submission, or a double click)
        # continues the application the first one saved.
        saved = selectors.application_by_token(company, request.POST.get("client_token"))
        if saved is not None:
            return _edit_page(request, saved)
    work = None
    if menu != Menu.ADVANCE_CONTRACT:
        if work_pk is None:
            raise Http404
        work = _eligible_work(company, menu, work_pk)
    if request.method == "POST":
        form = ApplicationForm(request.POST, menu=menu, company=company)
        if form.is_valid():
            return drafts.save_and_submit(request, form, work=work, page=_page(request, work))
        return _form_page(request, form, menu=menu, work=work, status=400)
    initial = {"client_token": new_client_token(), "want_advance": True}
    if work is not None:
        initial["delivery"] = (
            "" if validation.delivery_refusal(work, []) else Application.Delivery.ELECTRONIC
        )
    form = ApplicationForm(initial=initial, menu=menu, company=company)
    return _form_page(request, form, menu=menu, work=work)


@verified_member_required
def edit(request, pk):
    return _edit_page(request, selectors.get_application_for(request.membership.company, pk))


def _page(request, work):
    """The form page again, as drafts.save_and_submit asks for it."""
    return lambda form, application, status: _form_page(
        request, form, menu=form.menu, work=work, application=application, status=status
    )


def _edit_page(request, application):
    """The form of a saved application, for its menu (a change's is applications.changes')."""
    if application.menu == Menu.CHANGE:
        return changes.edit_page(request, application)
    if not application.is_editable:
        messages.info(request, MSG_ALREADY_SUBMITTED)
        return redirect("applications:detail", application.pk)
    menu = application.menu
    work = None if menu == Menu.ADVANCE_CONTRACT else application.work
    if request.method == "POST":
        form = ApplicationForm(request.POST, menu=menu, company=application.company)
        if form.is_valid():
            page = _page(request, work)
            return drafts.save_and_submit(
                request, form, work=work, application=application, page=page
            )
        return _form_page(request, form, menu=menu, work=work, application=application, status=400)
    form = ApplicationForm(
        initial=ApplicationForm.initial_for(application), menu=menu, company=application.company
    )
    return _form_page(request, form, menu=menu, work=work, application=application)


@require_POST
@verified_member_required
def check(request, menu):
    """As the clerk types: the rule messages per field, the limits and the fee estimates."""
    if menu not in FORM_MENUS:
        raise Http404
    company = request.membership.company
    work = None
    if menu != Menu.ADVANCE_CONTRACT and request.POST.get("work"):
        # Only reads: the company's own work (eligible, or already in a saved draft).
        work = get_object_or_404(Work, pk=parse_id(request.POST["work"]), company=company)
    form = ApplicationForm(request.POST, menu=menu, company=company)
    if not form.is_valid():
        return JsonResponse(drafts.check_answer(form.errors))
    application = form.unsaved(company, work)
    amounts = form.amounts()
    errors = validation.application_errors(application, amounts=amounts)
    return JsonResponse(drafts.check_answer(errors, application.work, amounts))


@verified_member_required
def choose_work(request, menu):
    """Menus 2 and 3 start by choosing the work."""
    company = request.membership.company
    if menu == Menu.ADVANCE_AFTER_CONTRACT:
        works = selectors.works_for_advance(company)
    elif menu == Menu.INTERMEDIATE:
        works = selectors.works_for_intermediate(company)
    else:
        raise Http404
    # A work whose 工期 has ended cannot get an advance (rules.check_work_not_ended): not
    # offered here. A form opened before it ended still says why when it is submitted.
    works = works.filter(end_date__gte=timezone.localdate())
    return render(request, "applications/choose_work.html", {"menu": Menu(menu), "works": works})


@verified_member_required
def index(request):
    """Menu 4: 保存中・手続き中一覧, filtered by status and orderer."""
    company = request.membership.company
    status = request.GET.get("status") or ""
    orderer = request.GET.get("orderer") or ""
    if status not in Application.Status.values:
        status = ""
    orderer_id = parse_id(orderer)
    page = page_of(
        request, selectors.applications_of(company, status=status, orderer_id=orderer_id)
    )
    # The filter's orderers come with the page's rows; a page without rows reads them.
    rows = page.object_list
    orderer_list = rows[0]["orderer_list"] if rows else selectors.orderer_list_of(company)
    orderer_options = _options_of(orderer_list, orderer_id)
    # The page around the rows and the filter's options kept per process for what it shows
    # (decision 0058): the member's header, and whether there is any row.
    context = {
        "page": {"nav": _NAV_SLOT},
        "applications": bool(rows),
        "rows_html": _ROWS_SLOT,
        "status_options": _STATUS_SLOT,
        "orderer_options": _ORDERERS_SLOT,
    }
    values = {
        # Every value in a row's markup is escaped by _row_html, in the options by
        # format_html_join; page_of escapes the page links.
        _ROWS_SLOT: _rows_html(rows, company),
        _STATUS_SLOT: _STATUS_OPTIONS[status],
        _ORDERERS_SLOT: orderer_options,
        _NAV_SLOT: page.nav,
    }
    key = (kept.member_frame(request), bool(rows))
    return kept.page(request, _pages, key, "applications/index.html", context, values)


# Menu 4's page around its rows and options, per member header (decision 0058).
_pages = kept.KeptPages(size=kept.LIST_PAGES_KEPT)
_ROWS_SLOT = kept.slot("rows")
_STATUS_SLOT = kept.slot("status")
_ORDERERS_SLOT = kept.slot("orderers")
_NAV_SLOT = kept.slot("nav")


_SAMPLE_PK = 987654321  # stands for each row's pk in its detail link
_STATUS_LABELS = dict(Application.Status.choices)
_MENU_LABELS = dict(Menu.choices)
_KIND_LABELS = dict(GuaranteeKind.choices)

# Menu 4's table row and filter option, as applications/index.html wrote them with a {% for %}
# (the same bytes): each value escaped as the template did (decision 0047).
_ROW = (
    "\n    <tr>\n"
    '      <td><a href="{}">{}</a></td>\n'
    '      <td><span class="badge badge--{}">{}</span></td>\n'
    "      <td>{}</td>\n"
    "      <td>{}</td>\n"
    "      <td>{}{}</td>\n"
    '      <td class="num">{}</td>\n'
    "      <td>{}</td>\n"
    "    </tr>\n  "
)
_READ_ONLY = '<br><span class="hint">共同企業体の構成員として閲覧のみ（代表者: {}）</span>'
_STATUSES = Application.Status.choices
_OPTION = '<option value="{}"{}>{}</option>'
_SELECTED = mark_safe(" selected")
# The status filter's options for each status chosen ("" for none): the same for every request.
_STATUS_OPTIONS = {
    chosen: format_html_join(
        "",
        _OPTION,
        ((value, _SELECTED if value == chosen else "", label) for value, label in _STATUSES),
    )
    for chosen in ("", *Application.Status.values)
}


@functools.lru_cache(maxsize=1024)
def _options_of(orderer_list, chosen):
    """The orderer filter's options (the orderers as selectors.orderers_in gives them), the one
    `chosen` selected: made once per process for the text the orderers were read as and the
    choice (a company's list of orderers changes only when it applies for another's work).
    Formatting 50 options was ~0.35 ms of menu 4's ~3.7 ms of CPU (issue 22); a new orderer
    or a renamed one is another text, so another key."""
    orderers = selectors.orderers_in(orderer_list)
    options = ((o["pk"], _SELECTED if o["pk"] == chosen else "", o["name"]) for o in orderers)
    return format_html_join("", _OPTION, options)


def _rows_html(rows, company):
    """Menu 4's rows' markup, each row made by _row_html, which keeps it under what it shows
    (decision 0059). One reverse() for every row's link."""
    sample = reverse("applications:detail", args=[_SAMPLE_PK])
    return "".join(
        _row_html(
            sample,
            row["pk"],
            row["status"],
            row["menu"],
            row["orderer_name"],
            row["work_name"],
            # A 共同企業体's, as a member: whose it is.
            row["company_name"] if row["company_id"] != company.pk else None,
            row["item_list"],
            row["updated_at"],
        )
        for row in rows
    )


@functools.lru_cache(maxsize=kept.LIST_ROWS_KEPT)
def _row_html(sample, pk, status, menu, orderer_name, work_name, jv_owner, item_list, updated):
    """One row of menu 4 in one str.format (the template's lookups and filters over 20 rows
    were most of the page's CPU, issue 22): the labels from dicts, the items as read with the
    row (selectors.items_in). Each value is escaped by html.escape, which is what
    django.utils.html.escape does, without format_html's lazy wrappers and SafeString per
    value (~100 calls a page: 0.4–0.7 ms of menu 4's 3.2–3.5 ms of CPU, issue 22). Made once
    per process for the same values — every value the row shows and the link's pattern
    (decision 0059)."""
    # One line of the cell per item, joined by <br>, each escaped.
    items = (
        f"{_KIND_LABELS.get(kind, kind)} {yen(amount) or '—'}"
        for kind, amount in selectors.items_in(item_list)
    )
    return _ROW.format(
        escape(sample.replace(str(_SAMPLE_PK), str(pk))),
        pk,
        escape(status),
        escape(_STATUS_LABELS.get(status, status)),
        escape(_MENU_LABELS.get(menu, menu)),
        escape(orderer_name or "—"),
        escape(work_name or "（未入力）"),
        _READ_ONLY.format(escape(jv_owner)) if jv_owner is not None else "",
        "<br>".join(map(escape, items)),
        # As the date filter's "Y/m/d H:i" wrote it, in the site's time zone: digits, "/",
        # ":" and a space.
        timezone.localtime(updated).strftime("%Y/%m/%d %H:%M"),
    )


@verified_member_required
def detail(request, pk):
    company = request.membership.company
    application = selectors.get_application_readable_by(company, pk)
    expected = fees.expected_fee(application)
    items = list(application.items.all())
    for item in items:
        item.estimate = expected.quotes.get(item.kind)  # 保証料の目安 (None: not computable)
    context = {
        "application": application,
        "work": application.work,
        "items": items,
        "fee_total": expected.due,
        "change_fee": expected.change,
        "history": application.status_changes.select_related("by"),
        "read_only": application.company_id != company.pk,
    }
    return render(request, "applications/detail.html", context)


@require_POST
@verified_member_required
def submit(request, pk):
    application = selectors.get_application_for(request.membership.company, pk)
    try:
        services.submit_application(application=application, by=request.user)
    except services.TransitionError:
        messages.info(request, MSG_ALREADY_SUBMITTED)
        return redirect("applications:detail", pk)
    except ValidationError:
        messages.warning(request, MSG_SAVED_NOT_SUBMITTED)
        return redirect("applications:edit", pk)
    messages.success(request, MSG_SUBMITTED)
    return redirect("applications:detail", pk)


@require_POST
@verified_member_required
def withdraw(request, pk):
    application = selectors.get_application_for(request.membership.company, pk)
    try:
        services.withdraw_application(application=application, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, MSG_WITHDRAWN)
    return redirect("applications:detail", pk)
