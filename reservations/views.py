"""The clerk's 契約保証予約 pages: list, form (保存 / 申込む), detail, the 手数料通知書 PDF and
the turn into a menu-1 application after the award."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.decorators import verified_member_required
from accounts.forms import add_service_errors
from reservations import pdf, selectors, services
from reservations.forms import ReservationForm
from reservations.models import Reservation

MSG_SAVED = "保存しました（保存中）。内容がそろったら「申込む」を押してください。"
MSG_SUBMITTED = (
    "契約保証予約のお申込みを受け付けました（手続き中）。保証会社の審査をお待ちください。"
)
MSG_NOT_SUBMITTED = (
    "入力内容を保存しましたが、まだお申込みできません。各項目のメッセージをご確認ください。"
)
MSG_ALREADY_SUBMITTED = "この契約保証予約はすでに提出されています。"
MSG_USED = (
    "契約保証予約から前払金保証・契約保証の申込を作成しました。"
    "内容を確認・修正してお申し込みください。"
)


def _forbidden(request, error):
    return render(request, "403.html", {"exception": str(error)}, status=403)


def _form_page(request, form, reservation=None, status=200):
    return render(
        request,
        "reservations/form.html",
        {"form": form, "reservation": reservation},
        status=status,
    )


def _save(request, form, reservation=None):
    """Save the valid form; with action=submit, submit it too (a 承認者 only)."""
    try:
        reservation = services.save_draft(
            company=request.membership.company,
            by=request.user,
            values=form.cleaned_data,
            reservation=reservation,
        )
    except ValidationError:
        messages.info(request, MSG_ALREADY_SUBMITTED)
        return redirect("reservations:detail", reservation.pk)
    if request.POST.get("action") != "submit":
        messages.success(request, MSG_SAVED)
        return redirect("reservations:edit", reservation.pk)
    try:
        services.submit_reservation(reservation=reservation, by=request.user)
    except PermissionDenied as error:
        return _forbidden(request, error)
    except services.TransitionError:
        messages.info(request, MSG_ALREADY_SUBMITTED)
        return redirect("reservations:detail", reservation.pk)
    except ValidationError as error:
        add_service_errors(form, error)
        messages.warning(request, MSG_NOT_SUBMITTED)
        return _form_page(request, form, reservation, status=400)
    messages.success(request, MSG_SUBMITTED)
    return redirect("reservations:detail", reservation.pk)


@verified_member_required
def index(request):
    company = request.membership.company
    today = timezone.localdate()
    reservations = list(selectors.reservations_of(company))
    for reservation in reservations:
        reservation.shown_status = reservation.status_on(today)
    return render(request, "reservations/index.html", {"reservations": reservations})


@verified_member_required
def new(request):
    company = request.membership.company
    if request.method == "POST":
        form = ReservationForm(request.POST, company=company)
        if form.is_valid():
            return _save(request, form)
        return _form_page(request, form, status=400)
    return _form_page(request, ReservationForm(company=company, initial={"advance_planned": True}))


@verified_member_required
def edit(request, pk):
    company = request.membership.company
    reservation = selectors.get_reservation_for(company, pk)
    if not reservation.is_editable:
        messages.info(request, MSG_ALREADY_SUBMITTED)
        return redirect("reservations:detail", pk)
    if request.method == "POST":
        form = ReservationForm(request.POST, company=company)
        if form.is_valid():
            return _save(request, form, reservation)
        return _form_page(request, form, reservation, status=400)
    form = ReservationForm(company=company, initial=ReservationForm.initial_for(reservation))
    return _form_page(request, form, reservation)


@verified_member_required
def detail(request, pk):
    reservation = selectors.get_reservation_for(request.membership.company, pk)
    today = timezone.localdate()
    context = {
        "reservation": reservation,
        "shown_status": reservation.status_on(today),
        "can_use": reservation.status == Reservation.Status.APPROVED
        and not reservation.has_expired_on(today),
        "history": reservation.status_changes.select_related("by"),
    }
    return render(request, "reservations/detail.html", context)


@require_POST
@verified_member_required
def submit(request, pk):
    reservation = selectors.get_reservation_for(request.membership.company, pk)
    try:
        services.submit_reservation(reservation=reservation, by=request.user)
    except PermissionDenied as error:
        return _forbidden(request, error)
    except services.TransitionError:
        messages.info(request, MSG_ALREADY_SUBMITTED)
        return redirect("reservations:detail", pk)
    except ValidationError:
        messages.warning(request, MSG_NOT_SUBMITTED)
        return redirect("reservations:edit", pk)
    messages.success(request, MSG_SUBMITTED)
    return redirect("reservations:detail", pk)


@verified_member_required
def fee_notice(request, pk):
    """手数料通知書 (PDF), once staff approved the reservation and set its fee."""
    reservation = selectors.get_reservation_for(request.membership.company, pk)
    if reservation.fee is None or reservation.approved_at is None:
        raise Http404
    response = HttpResponse(pdf.render_fee_notice(reservation), content_type="application/pdf")
    name = f"fee-notice-{reservation.number_display}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@verified_member_required
def use(request, pk):
    """After the award: make the menu-1 application and mark the reservation 使用済."""
    reservation = selectors.get_reservation_for(request.membership.company, pk)
    try:
        reservation = services.use_reservation(reservation=reservation, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("reservations:detail", pk)
    messages.success(request, MSG_USED)
    return redirect("applications:edit", reservation.application_id)
