from accounts.models import OfficeMembership
from accounts.selectors import bank_membership_of, membership_of


def membership(request):
    """The logged-in user's company membership (or orderer-office or bank account) for the
    header, looked up once per request."""
    user = getattr(request, "user", None)
    if not hasattr(request, "membership"):
        request.membership = membership_of(user) if user is not None else None
    office = None
    # Surety staff and company members never hold an office account: no query for them.
    if (
        request.membership is None
        and user is not None
        and user.is_authenticated
        and not user.is_staff
    ):
        office = getattr(request, "office_membership", None) or (
            OfficeMembership.objects.select_related("office__orderer").filter(user=user).first()
        )
    bank = None
    if office is None and request.membership is None and user is not None:
        if not hasattr(request, "bank_membership"):
            request.bank_membership = (
                bank_membership_of(user) if user.is_authenticated and not user.is_staff else None
            )
        bank = request.bank_membership
    return {
        "membership": request.membership,
        "office_membership": office,
        "bank_membership": bank,
    }
