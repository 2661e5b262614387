"""Who may see which guarantee in D-Sure, and what the viewer reads.

A viewer session holds grants, each scoped to one guarantee at the key version that was
proven: it dies when the key is re-issued, 30 minutes after its last use (refreshed at most
once a minute, so most page views write no session) and 8 hours after the lookup, however
often it is used (decision 0009). An office user may also open what was submitted to their
office (delivered or handed over: the registry's submissions, decision 0018).
"""

import time

from django.http import Http404

from accounts.models import OfficeMembership
from certificates import selectors as registry
from certificates.models import Guarantee

GRANT_SECONDS = 30 * 60  # after the last use
GRANT_MAX_SECONDS = 8 * 60 * 60  # after the lookup, whatever the use (one working day)
REFRESH_SECONDS = 60
SESSION_KEY = "dsure_grants"


def grant(request, number, key_version):
    """Let this session view the guarantee `number` while its key stays at `key_version`
    (the version whose key was just proven)."""
    now = int(time.time())
    grants = dict(request.session.get(SESSION_KEY, {}))
    grants[number] = {"at": now, "seen": now, "key_version": key_version}
    request.session[SESSION_KEY] = grants
    # A fresh session id once the key has been proven. A visitor without a session gets a
    # new id anyway when it is first saved: cycling it first would cost an INSERT and an
    # UPDATE instead of one INSERT.
    if request.session.session_key is not None:
        request.session.cycle_key()


def revoke_all(request):
    request.session.pop(SESSION_KEY, None)


def has_grant(request, guarantee):
    """True while this session's grant of the guarantee lives: same key version, used within
    GRANT_SECONDS, granted within GRANT_MAX_SECONDS."""
    grants = request.session.get(SESSION_KEY, {})
    entry = grants.get(guarantee.number)
    if not isinstance(entry, dict):  # none (or a grant written before key versions counted)
        return False
    now = int(time.time())
    if (
        entry.get("key_version") != guarantee.key_version
        or now - entry.get("seen", 0) > GRANT_SECONDS
        or now - entry.get("at", 0) > GRANT_MAX_SECONDS
    ):
        return False
    if now - entry["seen"] > REFRESH_SECONDS:
        grants = dict(grants)
        grants[guarantee.number] = {**entry, "seen": now}
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
    if has_grant(request, guarantee):
        return guarantee
    office = office_of(request.user)
    if registry.is_submitted_to(guarantee, office):
        return guarantee
    raise Http404
