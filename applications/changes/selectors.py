"""Reads for changes (menu 5): the guarantees a company may change."""

from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404

from applications.models import OPEN, Application
from certificates.models import Guarantee


def changeable_guarantees(company):
    """The company's concluded guarantees that are not cancelled and have no change in
    progress."""
    open_change = Exists(
        Application.objects.filter(
            guarantee=OuterRef("pk"), menu=Application.Menu.CHANGE, status__in=OPEN
        )
    )
    return (
        Guarantee.objects.filter(company=company, cancelled_at=None)
        .exclude(open_change)
        .select_related("work", "orderer")
        .order_by("-concluded_at")
    )


def get_changeable_guarantee(company, number):
    """One guarantee the company may change now; any other (another company's, a cancelled
    one, one with a change in progress, a number that does not exist) is a 404."""
    return get_object_or_404(changeable_guarantees(company), number=number)
