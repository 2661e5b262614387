from accounts.selectors import membership_of


def membership(request):
    """The logged-in user's membership (and company) for the header, looked up once."""
    if not hasattr(request, "membership"):
        request.membership = (
            membership_of(getattr(request, "user", None)) if hasattr(request, "user") else None
        )
    return {"membership": request.membership}
