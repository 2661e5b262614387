"""D-Sure (発注者用保証確認サービス): number + key → the original certificate, for city staff
without an account; office users also get the office's list (受信箱) and answer each version
with 受領 or 返戻 (the registry's services, decision 0018). Every response: no-store, no
referrer, noindex."""

import csv
import io
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors as accounts_selectors
from accounts import services as accounts_services
from accounts.forms import add_service_errors
from certificates import pdf, seal, verification
from certificates import selectors as registry
from certificates import services as registry_services
from certificates.models import Document, Guarantee
from dsure import selectors, services, throttle
from dsure.forms import (
    TOO_LARGE,
    AssignOfficeForm,
    CheckForm,
    CompletionForm,
    FingerprintForm,
    LookupForm,
    OfficeInviteForm,
    OfficeListForm,
    ReceiptForm,
    RefundReturnForm,
    ReturnForm,
)
from esure import kept, metrics
from esure.clientip import client_key
from esure.pagination import page_of
from esure.storage import stored_file_response
from esure.wareki import to_wareki

CHECK_REFUSED = "検証の回数が多すぎます。10分ほどおいてから、もう一度お試しください。"
NO_SEAL = "この環境では eシール が設定されていないため、検証できません。"
NO_SUCH_FINGERPRINT = "この内容の指紋に一致する電子証書はありません。入力を確かめてください。"
# The multipart envelope around a 5 MB file: a body longer than this is refused unread.
UPLOAD_OVERHEAD = 64 * 1024


def viewer_headers(view):
    """The viewer's pages and files are never cached, referred or indexed."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except (Http404, PermissionDenied) as error:
            # A refusal is a D-Sure page too: same headers.
            response = response_for_exception(request, error)
        # Referrer-Policy: same-origin comes from settings.SECURE_REFERRER_POLICY (not
        # no-referrer: decision 0004), as on every page.
        response["Cache-Control"] = "no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        selectors.save_grants(request, response)  # a new or refreshed viewer grant
        return response

    return wrapper


@viewer_headers
@sensitive_post_parameters("key")
def lookup(request):
    """The entry page: 保証契約番号 and 認証キー (POST only: the key never travels in a URL)."""
    if request.method == "POST":
        form = LookupForm(request.POST)
        if form.is_valid():
            found = services.find_guarantee(
                typed_number=form.cleaned_data["number"],
                typed_key=form.cleaned_data["key"],
                ip=client_key(request),
                office_user=request.user,
            )
            metrics.count_lookup(found.result)
            if found.result is services.Result.OK:
                selectors.grant(request, found.number, found.key_version)
                office = selectors.office_of(request.user)
                if office is not None:  # it joins the office's list
                    registry_services.record_key_opening(
                        guarantee=Guarantee.objects.get(pk=found.guarantee_id),
                        office=office,
                        by=request.user,
                    )
                return redirect("dsure:viewer", found.number)
            # Keep the number, never echo a key back into the page: the empty form's fields
            # (written out in the template) with the typed number.
            return _refusal_page(request, form.cleaned_data["number"], found.message)
        return render(request, "dsure/lookup.html", {"form": form}, status=200)
    return render(request, "dsure/lookup.html", {"number": request.GET.get("number", "")[:40]})


# A refusal's page for a visitor without an account is the same but for the typed number and
# the CSRF token: kept per process for each message (and the operator's name in the footer),
# with both put in per response — the wrong key's render was ~0.6 ms of its ~3 ms of Python
# (bench/README.md, "Issue 22 — the wrong key at full volume").
_refusals = kept.KeptPages(size=64)
_NUMBER_SLOT = kept.slot("number")


def _refusal_page(request, number, error):
    if not number or request.user.is_authenticated or len(messages.get_messages(request)):
        return render(request, "dsure/lookup.html", {"number": number, "error": error})
    page = _refusals.render(
        (error, settings.ESURE_SURETY_NAME),
        request,
        "dsure/lookup.html",
        lambda: {"number": _NUMBER_SLOT, "error": error},
    )
    return kept.respond(request, page, {_NUMBER_SLOT: escape(number)})


def _shown(versions, version):
    """The version a page shows: the current one, or the one asked for (404 if none)."""
    if version is None:
        return versions[-1]
    shown = next((v for v in versions if v.version == version), None)
    if shown is None:
        raise Http404
    return shown


def _viewer_context(
    request,
    guarantee,
    versions,
    version=None,
    receipt_form=None,
    return_form=None,
    completion_form=None,
    refund_form=None,
):
    current = versions[-1]
    shown = _shown(versions, version)
    office = selectors.office_of(request.user)
    refund_list = registry.refunds_in(versions)
    may_record = registry.is_held_by(guarantee, office)
    context = {
        "guarantee": guarantee,
        "versions": versions,
        "current": current,
        "shown": shown,
        "status": registry.status_of_guarantee(guarantee, current),
        "office": office,
        # The forms only an office user's page shows are built for them only.
        "receipt_form": receipt_form or (ReceiptForm() if office else None),
        "return_form": return_form or (ReturnForm() if office else None),
        # The office's submission of the version shown (its 受領 / 返戻), if any.
        "answer": registry.submissions_to(guarantee, office).get(shown.pk),
        # 完成 is recorded by an office holding the guarantee, once, while it is live.
        "can_complete": guarantee.completed_on is None and guarantee.cancelled_at is None,
        "completion_form": completion_form or (CompletionForm() if may_record else None),
        "may_record": may_record,
        # 前払金の返還 after a 減額, each with the form its return is recorded with.
        "refunds": [
            (
                refund,
                refund_form
                if refund_form is not None and refund_form.prefix == f"refund{refund.pk}"
                else (RefundReturnForm(refund=refund) if may_record else None),
            )
            for refund in refund_list
        ],
        "refund_list": refund_list,
    }
    context.update(pdf.certificate_context(shown))
    # The certificate itself, rendered once per process and version (decision 0037).
    context["certificate_body"] = pdf.certificate_body(shown)
    return context


@viewer_headers
def viewer(request, number):
    guarantee, versions = selectors.viewable_versions(request, number)
    if not selectors.has_grant(request, guarantee):  # opened as submitted to the office
        services.record_office_view(guarantee=guarantee, user=request.user, ip=client_key(request))
    elif guarantee.first_viewed_at is None:  # 閲覧済 for the contractor: once, ever
        registry_services.record_first_view(guarantee=guarantee)
    office = selectors.office_of(request.user)
    if office is not None:  # the list's badge ends for this user
        registry_services.mark_alerts_seen(guarantee=guarantee, office=office, user=request.user)
    return _viewer_page(request, guarantee, versions)


@viewer_headers
def version(request, number, version):
    guarantee, versions = selectors.viewable_versions(request, number)
    return _viewer_page(request, guarantee, versions, version)


# The key-holder's page (no office: no form but 閲覧を終了) kept per process for what it shows
# (decision 0043), at most this many; each ~11 kB, most of it the certificate's body.
PAGE_CACHE_SIZE = 256
_pages = kept.KeptPages(size=PAGE_CACHE_SIZE)


def _row(instance):
    """A row's values as read (the authentication key's salt left out), or None."""
    if instance is None:
        return None
    fields = instance._meta.concrete_fields
    return tuple(getattr(instance, f.attname) for f in fields if f.attname != "key_salt")


def _viewer_page(request, guarantee, versions, version=None):
    """dsure/viewer.html for the guarantee's version (the current one by default). A page
    without an office's panels and without a message to show is a function of the rows it
    was read from (the guarantee's, each version's — append-only, its id — and its
    refund's), the version shown, today (状態, 期限超過) and whether someone is logged in (the
    header): kept per process under exactly that, with the CSRF token put in per request; its
    context is built only when the page is not kept (~0.1 ms of a ~1.1 ms request)."""
    if selectors.office_of(request.user) is not None or len(messages.get_messages(request)):
        context = _viewer_context(request, guarantee, versions, version)
        return render(request, "dsure/viewer.html", context)
    key = (
        _row(guarantee),
        tuple((v.pk, _row(getattr(v, "refund", None))) for v in versions),
        _shown(versions, version).pk,
        timezone.localdate(),
        request.user.is_authenticated,
    )
    page = _pages.render(
        key,
        request,
        "dsure/viewer.html",
        lambda: _viewer_context(request, guarantee, versions, version),
    )
    return kept.respond(request, page)


@viewer_headers
def document(request, number, version):
    """The stored PDF of one version: the original bytes, as recorded at issuance."""
    name, guarantee = selectors.viewable_document(
        request, number, version, Document.Kind.CERTIFICATE
    )
    filename = f"{guarantee.number_display}-v{version}.pdf"
    return stored_file_response(name, content_type="application/pdf", filename=filename)


@viewer_headers
@require_POST
def end(request):
    """閲覧を終了: drop every grant of this session."""
    selectors.revoke_all(request)
    messages.info(request, "閲覧を終了しました。")
    return redirect("dsure:lookup")


def office_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        # One query for the office and its orderer, reused by the page's header.
        request.office_membership = selectors.office_membership_of(request.user)
        if request.office_membership is None:
            raise PermissionDenied
        request.office = request.office_membership.office
        return view(request, *args, **kwargs)

    return wrapper


@viewer_headers
@require_GET
@office_required
def inbox(request):
    """The office's list: every guarantee that reached it, filtered, searched, sorted, 20 a
    page (the filters kept in the page links)."""
    form = OfficeListForm(request.GET)
    rows = registry.office_list(request.office, user=request.user, **form.filters())
    page = page_of(request, rows)
    registry.label_office_rows(page.object_list)
    return render(
        request,
        "dsure/inbox.html",
        {"office": request.office, "form": form, "page": page, "guarantees": page.object_list},
    )


def _version_of(guarantee, version):
    certificate = guarantee.certificates.filter(version=version).first()
    if certificate is None:
        raise Http404
    return certificate


@viewer_headers
@require_POST
@office_required
def receive(request, number, version):
    """受領: the office accepts one version it may view."""
    guarantee = selectors.viewable_guarantee(request, number)
    certificate = _version_of(guarantee, version)
    form = ReceiptForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        registry_services.receive(
            certificate=certificate, office=request.office, by=request.user, note=note
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{guarantee.number_display} 第{version}版を受領しました。")
    return redirect("dsure:version", number, version)


@viewer_headers
@require_POST
@office_required
def return_(request, number, version):
    """返戻: the office sends one version back with a reason (the contractor and staff are
    mailed it). A missing reason shows the page again with the form as typed."""
    guarantee = selectors.viewable_guarantee(request, number)
    certificate = _version_of(guarantee, version)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        versions = registry.versions_of(guarantee)
        context = _viewer_context(request, guarantee, versions, version, return_form=form)
        return render(request, "dsure/viewer.html", context, status=400)
    try:
        registry_services.return_(
            certificate=certificate,
            office=request.office,
            by=request.user,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{guarantee.number_display} 第{version}版を返戻しました。")
    return redirect("dsure:version", number, version)


@viewer_headers
@require_POST
@office_required
def complete(request, number):
    """完成: the office records the day its work was inspected and handed over; the
    guarantee becomes 完了 (and a 前払金保証's designated account is released). Only an
    office holding the guarantee may (any other: 404). A refused day shows the page again
    with the form as typed and the reason beside the field."""
    guarantee = selectors.viewable_guarantee(request, number)
    if not registry.is_held_by(guarantee, request.office):
        raise Http404
    form = CompletionForm(request.POST)
    if form.is_valid():
        try:
            registry_services.record_completion(
                guarantee=guarantee,
                completed_on=form.cleaned_data["completed_on"],
                by=request.user,
                office=request.office,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            day = to_wareki(form.cleaned_data["completed_on"])
            messages.success(request, f"{guarantee.number_display} の完成（{day}）を記録しました。")
            return redirect("dsure:viewer", number)
    versions = registry.versions_of(guarantee)
    context = _viewer_context(request, guarantee, versions, completion_form=form)
    return render(request, "dsure/viewer.html", context, status=400)


@viewer_headers
@require_POST
@office_required
def refund_returned(request, number, pk):
    """前払金の返還 received: an office holding the guarantee records the day (once); any
    other office, or a refund of another guarantee, is a 404."""
    guarantee = selectors.viewable_guarantee(request, number)
    if not registry.is_held_by(guarantee, request.office):
        raise Http404
    refund = registry.get_refund(guarantee, pk)
    form = RefundReturnForm(request.POST, refund=refund)
    if form.is_valid():
        try:
            registry_services.record_refund_return(
                refund=refund,
                returned_on=form.cleaned_data["returned_on"],
                by=request.user,
                office=request.office,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "前払金の返還を記録しました。")
            return redirect("dsure:viewer", number)
    versions = registry.versions_of(guarantee)
    context = _viewer_context(request, guarantee, versions, refund_form=form)
    return render(request, "dsure/viewer.html", context, status=400)


# The CSV's columns, in order (the city's contract and accounting systems read them by name).
CSV_HEADER = [
    "保証契約番号",
    "保証の種類",
    "工事番号",
    "工事名",
    "受注者",
    "保証金額",
    "保証期間（自）",
    "保証期間（自）ISO",
    "保証期限",
    "保証期限ISO",
    "状態",
    "最新の版",
    "受領状況",
]


def _answer_label(g):
    if g.returned:
        return f"返戻（第{g.office_version}版）"
    if g.unreceived:
        return "未受領"
    return f"受領済（第{g.office_version}版）"


@viewer_headers
@require_GET
@office_required
def inbox_csv(request):
    """The filtered list as CSV for the city's systems: UTF-8 with a BOM (Excel opens it),
    dates in 和暦 and ISO, amounts as plain integers."""
    form = OfficeListForm(request.GET)
    rows = registry.office_list(request.office, **form.filters())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for g in registry.label_office_rows(list(rows)):
        writer.writerow(
            [
                g.number_display,
                g.get_kind_display(),
                g.work.work_number,
                g.work.name,
                g.company.name,
                g.current_amount,
                to_wareki(g.current_starts_on),
                g.current_starts_on.isoformat(),
                to_wareki(g.current_ends_on),
                g.current_ends_on.isoformat(),
                g.status,
                g.current_version,
                _answer_label(g),
            ]
        )
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"guarantees-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- 利用者の管理: an orderer's 管理者 invites, assigns and removes colleagues ---------------


def office_admin_required(view):
    """An office user whose role is 管理者; other office users get 403."""

    @office_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.office_membership.is_admin:
            raise PermissionDenied
        request.orderer = request.office.orderer
        return view(request, *args, **kwargs)

    return wrapper


def _members_page(request, invite_form=None, status=200):
    orderer = request.orderer
    context = {
        "orderer": orderer,
        "members": accounts_selectors.office_members_of(orderer),
        "invitations": accounts_selectors.open_office_invitations_of(orderer),
        "invite_form": invite_form or OfficeInviteForm(orderer=orderer),
        "offices": list(orderer.offices.order_by("pk")),
    }
    return render(request, "dsure/members.html", context, status=status)


@require_GET
@office_admin_required
def members(request):
    """The orderer's office users and open invitations."""
    return _members_page(request)


@require_POST
@office_admin_required
def invite(request):
    form = OfficeInviteForm(request.POST, orderer=request.orderer)
    if form.is_valid():
        try:
            accounts_services.invite_office_user(
                office=form.cleaned_data["office"],
                email=form.cleaned_data["email"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['email']} を招待しました。")
            return redirect("dsure:members")
    return _members_page(request, invite_form=form, status=400)


@require_POST
@office_admin_required
def assign(request, pk):
    membership = accounts_selectors.get_office_member_for(request.orderer, pk)
    form = AssignOfficeForm(request.POST, orderer=request.orderer)
    if not form.is_valid():
        messages.error(request, "担当課を一覧から選んでください。")
        return redirect("dsure:members")
    accounts_services.assign_office(
        membership=membership, office=form.cleaned_data["office"], by=request.user
    )
    messages.success(
        request, f"{membership.user} の担当課を {form.cleaned_data['office']} にしました。"
    )
    return redirect("dsure:members")


@require_POST
@office_admin_required
def remove(request, pk):
    membership = accounts_selectors.get_office_member_for(request.orderer, pk)
    try:
        accounts_services.remove_office_user(membership=membership, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{membership.user} を利用者から削除しました。")
    return redirect("dsure:members")


@require_POST
@office_admin_required
def revoke(request, pk):
    invitation = accounts_selectors.get_office_invitation_for(request.orderer, pk)
    accounts_services.revoke_office_invitation(invitation=invitation, by=request.user)
    messages.success(request, f"{invitation.email} への招待を取り消しました。")
    return redirect("dsure:members")


# --- 電子証書の検証: any PDF or printout, no key (decision 0016) ------------------------------


def _declared_length(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _check_page(request, status=200, **context):
    context.setdefault("form", CheckForm())
    context.setdefault("fingerprint_form", FingerprintForm())
    return render(request, "dsure/check.html", context, status=status)


@viewer_headers
def check(request):
    """Upload a PDF (≤ 5 MB) → the verdict of certificates.verification.check_pdf; a typed
    fingerprint (GET, not a secret) goes to check_fingerprint. Throttled per client."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if "fingerprint" in request.GET:
        fingerprint_form = FingerprintForm(request.GET)
        if fingerprint_form.is_valid():
            return redirect("dsure:check_fingerprint", fingerprint_form.cleaned_data["fingerprint"])
        return _check_page(request, fingerprint_form=fingerprint_form)
    if request.method == "GET":
        return _check_page(request)
    if not throttle.check_allowed(client_key(request)):
        return _check_page(request, status=429, error=CHECK_REFUSED)
    if _declared_length(request) > verification.MAX_BYTES + UPLOAD_OVERHEAD:
        return _check_page(request, error=TOO_LARGE)  # never read: refused by its length
    form = CheckForm(request.POST, request.FILES)
    if not form.is_valid():
        return _check_page(request, form=form)
    try:
        verdict = verification.check_pdf(form.cleaned_data["file"].read())
    except seal.SealError:
        return _check_page(request, error=NO_SEAL)
    return _check_page(request, verdict=verdict, filename=form.cleaned_data["file"].name[:100])


@viewer_headers
@require_GET
def check_fingerprint(request, fingerprint):
    """The QR code of a printout (or a typed fingerprint): which version has that content,
    and how it stands today. Nothing beyond what the printout itself shows."""
    if not throttle.check_allowed(client_key(request)):
        return _check_page(request, status=429, error=CHECK_REFUSED)
    certificate = registry.version_by_fingerprint(fingerprint)
    typed = FingerprintForm(initial={"fingerprint": fingerprint[:120]})
    if certificate is None:
        return _check_page(request, status=404, fingerprint_form=typed, error=NO_SUCH_FINGERPRINT)
    return _check_page(
        request,
        fingerprint_form=typed,
        found=certificate,
        found_groups=pdf.fingerprint_groups(certificate.fingerprint),
        standing=registry.version_standing(certificate),
    )
