"""The pages of the API: the office 管理者's token page (作成・失効) and the API docs,
rendered from the OpenAPI schema on our own template (no CDN: the CSP stays strict)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from api import docs as api_docs
from api import selectors, services
from api.endpoints import api
from api.forms import TokenForm, WebhookForm
from api.webhooks import EVENT_TYPES


def office_admin_required(view):
    """The office's 管理者 (accounts.OfficeMembership.Role.ADMIN, decision 0024); others 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        membership = getattr(request.user, "office_membership", None)
        if membership is None or not membership.is_admin:
            raise PermissionDenied
        request.office = membership.office
        return view(request, *args, **kwargs)

    return wrapper


def _tokens_page(request, form, created=None, status=200):
    response = render(
        request,
        "api/tokens.html",
        {
            "office": request.office,
            "tokens": selectors.tokens_of(request.office),
            "form": form,
            "created": created,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@office_admin_required
def tokens(request):
    """APIトークン: the office's tokens (name, created, expiry, last use, state); a form to
    create one. The new token is shown once, on the answer to the POST, and nowhere else."""
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                created = services.create_token(
                    office=request.office,
                    name=form.cleaned_data["name"],
                    by=request.user,
                    expires_at=form.expires_at(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _tokens_page(request, TokenForm(), created=created)
        return _tokens_page(request, form, status=200)
    return _tokens_page(request, TokenForm())


@require_POST
@office_admin_required
def revoke(request, pk):
    token = selectors.get_token_for(request.office, pk)
    try:
        services.revoke_token(token=token, by=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"APIトークン「{token.name}」を失効させました。")
    return redirect("api:tokens")


@require_GET
def docs(request):
    """The API's reference, from the same schema as /api/v1/openapi.json."""
    schema = api.get_openapi_schema()
    return render(request, "api/docs.html", api_docs.docs_context(schema))


# --- Webhooks (the office 管理者's pages) -------------------------------------------------


@never_cache
@office_admin_required
def webhooks(request):
    """Webhook 送信先: the office's endpoints and a form to add one; the signing secret is
    shown once, on the answer to the creating POST."""
    form = WebhookForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_endpoint(
                office=request.office,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                by=request.user,
            )
        except ValidationError as error:  # the SSRF guard's answer, next to the URL
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form = WebhookForm()
    response = render(
        request,
        "api/webhooks.html",
        {
            "office": request.office,
            "endpoints": selectors.endpoints_of(request.office),
            "form": form,
            "created": created,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@office_admin_required
def webhook(request, pk):
    """One endpoint: its deliveries (newest first, 50) with every attempt; resend, stop, restart."""
    endpoint = selectors.get_endpoint_for(request.office, pk)
    return render(
        request,
        "api/webhook.html",
        {
            "office": request.office,
            "endpoint": endpoint,
            "deliveries": selectors.deliveries_of(endpoint),
            "event_types": EVENT_TYPES,
        },
    )


@require_POST
@office_admin_required
def webhook_resend(request, pk, delivery_pk):
    endpoint = selectors.get_endpoint_for(request.office, pk)
    delivery = selectors.get_delivery_for(endpoint, delivery_pk)
    try:
        services.resend(delivery=delivery, by=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"イベント {delivery.event.msg_id} を再送しました。")
    return redirect("api:webhook", pk)


@require_POST
@office_admin_required
def webhook_toggle(request, pk):
    endpoint = selectors.get_endpoint_for(request.office, pk)
    if endpoint.active:
        services.disable_endpoint(endpoint=endpoint, by=request.user)
        messages.success(request, "送信先を停止しました。")
    else:
        services.enable_endpoint(endpoint=endpoint, by=request.user)
        messages.success(request, "送信先を再開しました。")
    return redirect("api:webhook", pk)
