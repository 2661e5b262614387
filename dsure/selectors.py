"""Who may see which guarantee in D-Sure, and what the viewer reads.

A viewer grant is a signed cookie (decision 0028, superseding the session grants of decision
0009): for each guarantee opened by its key, the number, the key version that was proven,
when and when last used. It opens the guarantee only while the key stays at that version
(checked against the guarantee row the page reads anyway), for 30 minutes after its last use
(refreshed at most once a minute) and 8 hours after the lookup however often it is used.
Nothing is written or read in the database for it. An office user may also open what was
submitted to their office (delivered or handed over: the registry's submissions, decision
0018).
"""

import time

from django.conf import settings
from django.core import signing
from django.http import Http404

from accounts.models import OfficeMembership
from certificates import selectors as registry
from certificates.models import Guarantee

GRANT_SECONDS = 30 * 60  # after the last use
GRANT_MAX_SECONDS = 8 * 60 * 60  # after the lookup, whatever the use (one working day)
REFRESH_SECONDS = 60
MAX_GRANTS = 20  # guarantees one browser holds at once (the least recently used go first)
# The signature's salt: a value signed for anything else (another cookie) is no grant.
GRANT_SALT = "dsure.grant"
# Set on the request when the response must carry a new cookie (or delete it: None).
_PENDING = "_dsure_grants_pending"
# The cookie's grants as read, kept on the request: the viewer checks the grant twice (the
# page's access, then whether to stamp 閲覧済), and each unsigning is an HMAC and a JSON parse.
_READ = "_dsure_grants_read"


def grant_cookie_name():
    """`__Host-` over https, as the session and CSRF cookies (esure/settings.py)."""
    return "__Host-dsure_grant" if settings.SESSION_COOKIE_SECURE else "dsure_grant"


def _grants(request):
    """{number: [key_version, granted at, last seen]} from the signed cookie; {} if absent or
    not signed by us."""
    pending = getattr(request, _PENDING, False)
    if pending is not False:
        return pending or {}
    read = getattr(request, _READ, None)
    if read is None:
        read = _read_cookie(request)
        setattr(request, _READ, read)
    return read


def _read_cookie(request):
    value = request.COOKIES.get(grant_cookie_name())
    if not value:
        return {}
    try:
        grants = signing.Signer(salt=GRANT_SALT).unsign_object(value)
    except (signing.BadSignature, ValueError):
        return {}
    return grants if isinstance(grants, dict) else {}


def grant(request, number, key_version):
    """Let this browser view the guarantee `number` while its key stays at `key_version`
    (the version whose key was just proven). The cookie goes out with the response
    (`save_grants`)."""
    now = int(time.time())
    grants = {n: g for n, g in _grants(request).items() if n != number}
    grants[number] = [key_version, now, now]
    recent = sorted(grants.items(), key=lambda item: item[1][2])[-MAX_GRANTS:]
    setattr(request, _PENDING, dict(recent))


def revoke_all(request):
    setattr(request, _PENDING, None)


def save_grants(request, response):
    """Write the grants changed while handling the request onto the response."""
    pending = getattr(request, _PENDING, False)
    if pending is False:
        return
    name = grant_cookie_name()
    if not pending:
        response.delete_cookie(name, samesite="Lax")
        return
    response.set_cookie(
        name,
        signing.Signer(salt=GRANT_SALT).sign_object(pending),
        max_age=GRANT_MAX_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def has_grant(request, guarantee):
    """True while this browser's grant of the guarantee lives: same key version, used within
    GRANT_SECONDS, granted within GRANT_MAX_SECONDS."""
    grants = _grants(request)
    entry = grants.get(guarantee.number)
    if not (isinstance(entry, list) and len(entry) == 3 and all(isinstance(x, int) for x in entry)):
        return False
    key_version, at, seen = entry
    now = int(time.time())
    if (
        key_version != guarantee.key_version
        or now - seen > GRANT_SECONDS
        or now - at > GRANT_MAX_SECONDS
    ):
        return False
    if now - seen > REFRESH_SECONDS:
        setattr(request, _PENDING, {**grants, guarantee.number: [key_version, at, now]})
    return True


def office_membership_of(user):
    """The user's office account with its office and orderer (one query), or None."""
    if not user.is_authenticated:
        return None
    return OfficeMembership.objects.select_related("office__orderer").filter(user=user).first()


def office_of(user):
    membership = getattr(user, "office_membership", None) if user.is_authenticated else None
    return membership.office if membership else None


def check_viewable(request, guarantee):
    """The guarantee, if this browser holds its grant or it was submitted to the user's
    office; otherwise 404 (the same as for a number that does not exist: None). Another
    guarantee's grant opens nothing here."""
    if guarantee is not None and (
        has_grant(request, guarantee)
        or registry.is_submitted_to(guarantee, office_of(request.user))
    ):
        return guarantee
    raise Http404


def viewable_guarantee(request, number):
    """The guarantee behind a viewer URL (check_viewable)."""
    # No related rows: the viewer prints the frozen certificate content, not the live work.
    return check_viewable(request, Guarantee.objects.filter(number=number).first())


def viewable_versions(request, number):
    """(guarantee, its versions oldest first) behind a viewer page, read in one query
    (check_viewable)."""
    guarantee, versions = registry.versions_by_number(number)
    return check_viewable(request, guarantee), versions


def viewable_document(request, number, version, kind):
    """The stored file name of a version's document behind a viewer URL and its guarantee,
    read in one query (check_viewable; 404 for a version without one)."""
    name, guarantee = registry.document_by_number(number, version, kind)
    return name, check_viewable(request, guarantee)
