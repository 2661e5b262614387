"""Read access to 契約保証予約: one access helper, and the company's list."""

from django.shortcuts import get_object_or_404

from reservations.models import Reservation


def get_reservation_for(company, pk):
    """One reservation of the user's company; another company's is a 404 like a missing one.
    A JV's other members do not see it: a reservation is the representative's bid, not yet
    a guarantee of the JV (decision 0034)."""
    return get_object_or_404(
        Reservation.objects.select_related(
            "company", "orderer", "branch", "joint_venture", "application", "submitted_by"
        ),
        pk=pk,
        company=company,
    )


def reservations_of(company):
    """The company's reservations, the latest change first."""
    return (
        Reservation.objects.filter(company=company)
        .select_related("orderer", "application")
        .order_by("-updated_at", "-pk")
    )
