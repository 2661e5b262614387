"""保証金の請求: the office's pages (file a claim, answer a request for documents, follow it)
and the contractor's read-only pages. Every object through an access helper
(claims.selectors): another office's or another company's claim is a 404; a user who is not
an office user gets 403 on the office's pages, as on D-Sure's office pages."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import member_required
from accounts.forms import add_service_errors
from claims import forms, selectors, services
from claims.models import Claim
from esure.pagination import page_of
from esure.storage import stored_file_response


def office_required(view):
    """Logged in as an orderer office's user; sets request.office. Anyone else: 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        membership = selectors.office_membership_of(request.user)
        if membership is None:
            raise PermissionDenied
        request.office = membership.office
        return view(request, *args, **kwargs)

    return wrapper


def _detail_context(claim, **extra):
    return {
        "claim": claim,
        "history": selectors.history_of(claim),
        "attachments": selectors.attachments_of(claim),
        "S": Claim.Status,
        "is_open": claim.status in Claim.OPEN,
        **extra,
    }


# --- The office ----------------------------------------------------------------------------


@require_GET
@office_required
def office_list(request):
    """The office's claims (open ones by due date first) and the number to claim on."""
    form = forms.NumberForm(request.GET if "number" in request.GET else None)
    if form.is_valid():
        return redirect("claims:new", form.cleaned_data["number"])
    page = page_of(request, selectors.claims_of_office(request.office))
    context = {
        "office": request.office,
        "form": form,
        "page": page,
        "claims": page.object_list,
        "due_days": settings.ESURE_CLAIM_DUE_DAYS,
    }
    return render(request, "claims/office_list.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@office_required
def new(request, number):
    """保証金の請求: the form for a guarantee that reached the office."""
    guarantee = selectors.get_guarantee_for_office(request.office, number)
    terms = selectors.cover_of(guarantee)
    posted = request.method == "POST"
    form = forms.ClaimForm(
        request.POST if posted else None, request.FILES if posted else None, kind=guarantee.kind
    )
    if posted and form.is_valid():
        try:
            claim = services.file_claim(
                guarantee=guarantee, office=request.office, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "保証金の請求を受け付けました。")
            return redirect("claims:office_detail", claim.pk)
    blocked = services.claim_problems(guarantee=guarantee, terms=terms, terminated_on=None)
    if selectors.alive_claim_of(guarantee) is not None:
        blocked.setdefault("__all__", []).append(services.MSG_ALREADY_CLAIMED)
    context = {
        "guarantee": guarantee,
        "terms": terms,
        "form": form,
        "blocked": blocked.get("__all__", []),
        "max_mb": settings.ESURE_CLAIM_ATTACHMENT_MAX_BYTES // 2**20,
        "due_days": settings.ESURE_CLAIM_DUE_DAYS,
    }
    status = 400 if posted else 200
    return render(request, "claims/new.html", context, status=status)


@require_GET
@office_required
def office_detail(request, pk):
    claim = selectors.get_claim_for_office(request.office, pk)
    context = _detail_context(
        claim,
        office_view=True,
        resubmit_form=forms.ResubmitForm(),
        max_mb=settings.ESURE_CLAIM_ATTACHMENT_MAX_BYTES // 2**20,
    )
    return render(request, "claims/detail.html", context)


@require_POST
@office_required
def resubmit(request, pk):
    """The office answers a request for more documents with new files."""
    claim = selectors.get_claim_for_office(request.office, pk)
    form = forms.ResubmitForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.resubmit(
                claim=claim,
                by=request.user,
                files=form.cleaned_data["files"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "追加の書類を提出しました。")
            return redirect("claims:office_detail", claim.pk)
    context = _detail_context(
        claim,
        office_view=True,
        resubmit_form=form,
        max_mb=settings.ESURE_CLAIM_ATTACHMENT_MAX_BYTES // 2**20,
    )
    return render(request, "claims/detail.html", context, status=400)


@require_GET
@office_required
def attachment(request, pk, attachment_pk):
    """A document of the office's claim, as a download (never rendered inline)."""
    claim = selectors.get_claim_for_office(request.office, pk)
    return serve_attachment(selectors.get_attachment(claim, attachment_pk))


def serve_attachment(attachment):
    response = stored_file_response(
        attachment.file,
        content_type=attachment.content_type,
        as_attachment=True,
        filename=attachment.name,
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- The contractor (read only) ------------------------------------------------------------


@require_GET
@member_required
def index(request):
    page = page_of(request, selectors.claims_of_company(request.membership.company))
    return render(request, "claims/index.html", {"page": page, "claims": page.object_list})


@require_GET
@member_required
def detail(request, pk):
    claim = selectors.get_claim_for_company(request.membership.company, pk)
    return render(request, "claims/detail.html", _detail_context(claim, office_view=False))
