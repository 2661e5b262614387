"""Mails to the company about its 契約保証予約 (through esure.mail, one sending function).

The company's own members only: a reservation is the 代表者's bid, which the other members of
a 共同企業体 do not see (decision 0034). Never a link that works without logging in."""

from django.urls import reverse

from accounts.models import Membership
from esure.mail import send_templated_mail


def _send(name, reservation, **extra):
    members = Membership.objects.filter(company_id=reservation.company_id).select_related("user")
    context = {
        "reservation": reservation,
        "detail_path": reverse("reservations:detail", args=[reservation.pk]),
        **extra,
    }
    send_templated_mail(
        f"emails/reservation_{name}",
        context,
        [m.user.email for m in members.order_by("joined_at")],
    )


def reservation_approved(reservation):
    """承認: the fee and the validity; the 手数料通知書 is on the page, the 予約証書 comes on
    paper."""
    _send("approved", reservation)


def reservation_declined(reservation, reason):
    _send("declined", reservation, reason=reason)
