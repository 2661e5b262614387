"""Who may see which guarantee in D-Sure, and what the viewer reads.

A viewer session holds grants, each scoped to one guarantee and kept 30 minutes from the
last use (refreshed at most once a minute, so most page views write no session). An office
user may also open what was handed over to their office.
"""

import time

from django.db.models import Min, Q
from django.http import Http404

from certificates.models import Guarantee
from dsure.models import AccessLog, Handover, Receipt

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


def office_of(user):
    membership = getattr(user, "office_membership", None) if user.is_authenticated else None
    return membership.office if membership else None


def viewable_guarantee(request, number):
    """The guarantee behind a viewer URL, if this session holds its grant or it was handed
    over to the user's office; otherwise 404 (the same as for a number that does not
    exist). Another guarantee's grant opens nothing here."""
    # No related rows: the viewer prints the frozen certificate content, not the live work.
    guarantee = Guarantee.objects.filter(number=number).first()
    if guarantee is None:
        raise Http404
    if has_grant(request, number):
        return guarantee
    office = office_of(request.user)
    if office is not None and Handover.objects.filter(guarantee=guarantee, office=office).exists():
        return guarantee
    raise Http404


def first_viewed_at(guarantee):
    """When the orderer first opened the guarantee in D-Sure (閲覧済), or None."""
    return AccessLog.objects.filter(
        guarantee=guarantee,
        outcome__in=[AccessLog.Outcome.SUCCESS, AccessLog.Outcome.HANDOVER_VIEW],
    ).aggregate(at=Min("at"))["at"]


def receipts_of(guarantee):
    return list(
        Receipt.objects.filter(guarantee=guarantee)
        .select_related("office", "certificate")
        .order_by("at")
    )


def received_by(guarantee, office):
    """The certificate versions of the guarantee that the office has acknowledged (受領)."""
    if office is None:
        return set()
    receipts = Receipt.objects.filter(guarantee=guarantee, office=office)
    return set(receipts.values_list("certificate_id", flat=True))


def handovers_of(guarantee):
    return list(Handover.objects.filter(guarantee=guarantee).select_related("office"))


def office_inbox(office):
    """受領一覧: what was handed over to the office and what its users opened by key, with
    the receipt state of the current version."""
    handed = Handover.objects.filter(office=office).values_list("guarantee_id", flat=True)
    opened = AccessLog.objects.filter(
        office_user__office_membership__office=office, outcome=AccessLog.Outcome.SUCCESS
    ).values_list("guarantee_id", flat=True)
    guarantees = list(
        Guarantee.objects.filter(Q(pk__in=handed) | Q(pk__in=opened))
        .select_related("work", "company")
        .order_by("-concluded_at")
    )
    received = {
        r.guarantee_id: r
        for r in Receipt.objects.filter(office=office, guarantee__in=guarantees).order_by("at")
    }
    handed_ids = set(handed)
    for g in guarantees:
        g.handed_over = g.pk in handed_ids
        g.receipt = received.get(g.pk)
    return guarantees
