"""D-Sure (発注者用保証確認サービス): number + key → the original certificate, for city staff
without an account; office users also get a 受領一覧. Every response: no-store, no referrer,
noindex."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from certificates import pdf
from certificates import selectors as registry
from certificates.models import Document
from dsure import selectors, services
from dsure.forms import LookupForm, ReceiptForm
from esure import metrics
from esure.clientip import client_key


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
        return response

    return wrapper


@viewer_headers
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
                selectors.grant(request, found.number)
                return redirect("dsure:viewer", found.number)
            # Keep the number, never echo a key back into the page.
            form = LookupForm(initial={"number": form.cleaned_data["number"]})
            form.is_bound = False
            return render(request, "dsure/lookup.html", {"form": form, "error": found.message})
        return render(request, "dsure/lookup.html", {"form": form}, status=200)
    form = LookupForm(initial={"number": request.GET.get("number", "")[:40]})
    return render(request, "dsure/lookup.html", {"form": form})


def _viewer_context(request, guarantee, version=None):
    versions = registry.versions_of(guarantee)
    current = versions[-1]
    shown = (
        current if version is None else next((v for v in versions if v.version == version), None)
    )
    if shown is None:
        raise Http404
    office = selectors.office_of(request.user)
    context = {
        "guarantee": guarantee,
        "versions": versions,
        "current": current,
        "shown": shown,
        "status": registry.status_of_guarantee(guarantee, current),
        "office": office,
        "receipt_form": ReceiptForm(),
        "received": selectors.received_by(guarantee, office),
    }
    context.update(pdf.certificate_context(shown))
    return context


@viewer_headers
def viewer(request, number):
    guarantee = selectors.viewable_guarantee(request, number)
    if not selectors.has_grant(request, number):  # opened through a hand-over
        services.record_handover_view(
            guarantee=guarantee, user=request.user, ip=client_key(request)
        )
    return render(request, "dsure/viewer.html", _viewer_context(request, guarantee))


@viewer_headers
def version(request, number, version):
    guarantee = selectors.viewable_guarantee(request, number)
    return render(request, "dsure/viewer.html", _viewer_context(request, guarantee, version))


@viewer_headers
def document(request, number, version):
    """The stored PDF of one version: the original bytes, as recorded at issuance."""
    guarantee = selectors.viewable_guarantee(request, number)
    doc = registry.get_document(guarantee, version, Document.Kind.CERTIFICATE)
    filename = f"{guarantee.number_display}-v{version}.pdf"
    return FileResponse(doc.file.open("rb"), content_type="application/pdf", filename=filename)


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
        request.office = selectors.office_of(request.user)
        if request.office is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@viewer_headers
@office_required
def inbox(request):
    """受領一覧 of the user's office."""
    return render(
        request,
        "dsure/inbox.html",
        {"office": request.office, "guarantees": selectors.office_inbox(request.office)},
    )


@viewer_headers
@require_POST
@office_required
def receive(request, number, version):
    """受領: the office acknowledges one version it may view."""
    guarantee = selectors.viewable_guarantee(request, number)
    certificate = next((v for v in registry.versions_of(guarantee) if v.version == version), None)
    if certificate is None:
        raise Http404
    form = ReceiptForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    services.acknowledge(certificate=certificate, office_user=request.user, note=note)
    messages.success(request, f"{guarantee.number_display} 第{version}版を受領しました。")
    return redirect("dsure:viewer", number)
