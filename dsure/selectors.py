"""Who may see which guarantee in D-Sure, and what the viewer reads.

A viewer session holds grants, each scoped to one guarantee and kept 30 minutes from the
last use (refreshed at most once a minute, so most page views write no session). An office
user may also open what was submitted to their office (delivered or handed over: the
registry's submissions, decision 0018).
"""

import time

from django.http import Http404

from accounts.models import OfficeMembership
from certificates import selectors as registry
from certificates.models import Guarantee

GRANT_SECONDS = 30 * 60
REFRESH_SECONDS = 60
SESSION_KEY = "dsure_grants"


def grant(request, number):
    grants = dict(request.session.get(SESSION_KEY, {}))
    grants[number] = int(time.time())
    request.session[SESSION_KEY] = grants
    # A fresh session id once the key has been proven. A visitor without a session gets a
    # new id anyway when it is first saved: cycling it first would cost an INSERT and an
    # UPDATE instead of one INSERT.
    if request.session.session_key is not None:
        request.session.cycle_key()


def revoke_all(request):
    request.session.pop(SESSION_KEY, None)


def has_grant(request, number):
    grants = request.session.get(SESSION_KEY, {})
    seen = grants.get(number)
    now = int(time.time())
    if seen is None or now - seen > GRANT_SECONDS:
        return False
    if now - seen > REFRESH_SECONDS:
        grants = dict(grants)
        grants[number] = now
        request.session[SESSION_KEY] = grants
    return True


def office_membership_of(user):
    """The user's office account with its office and orderer (one query), or None."""
    if not user.is_authenticated:
        return None
    return OfficeMembership.objects.select_related("office__orderer").filter(user=user).first()


def office_of(user):
    membership = getattr(user, "office_membership", None) if user.is_authenticated else None
    return membership.office if membership else None


def viewable_guarantee(request, number):
    """The guarantee behind a viewer URL, if this session holds its grant or it was submitted
    to the user's office; otherwise 404 (the same as for a number that does not
    exist). Another guarantee's grant opens nothing here."""
    # No related rows: the viewer prints the frozen certificate content, not the live work.
    guarantee = Guarantee.objects.filter(number=number).first()
    if guarantee is None:
        raise Http404
    if has_grant(request, number):
        return guarantee
    office = office_of(request.user)
    if registry.is_submitted_to(guarantee, office):
        return guarantee
    raise Http404
