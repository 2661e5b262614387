"""Reads of the registry: current versions, statuses, access helpers."""

from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.utils import timezone

from certificates.models import Certificate, Document, Guarantee


class Status:
    """What a guarantee is today (DESIGN.md §4 D-Sure): computed, never stored."""

    VALID = "有効"
    CHANGED = "変更あり"
    CANCELLED = "解約"
    EXPIRED = "期間満了"


def status_of(*, cancelled, current_version, ends_on, today=None):
    """解約 over 期間満了 over 変更あり over 有効 (an expired, changed one is 期間満了)."""
    today = today or timezone.localdate()
    if cancelled:
        return Status.CANCELLED
    if ends_on < today:
        return Status.EXPIRED
    if current_version > 1:
        return Status.CHANGED
    return Status.VALID


def _latest(field):
    return Subquery(
        Certificate.objects.filter(guarantee=OuterRef("pk")).order_by("-version").values(field)[:1]
    )


def with_current(queryset):
    """Annotate each guarantee with its latest version's amount, period end and version."""
    return queryset.annotate(
        current_version=_latest("version"),
        current_amount=_latest("amount"),
        current_ends_on=_latest("ends_on"),
    )


# What the list shows: not the work's or orderer's other columns.
LIST_FIELDS = (
    "number",
    "kind",
    "delivery",
    "concluded_at",
    "cancelled_at",
    "work__name",
    "orderer__name",
)


def guarantees_of(company):
    """The company's guarantees, newest first, each with its current values (a queryset,
    for the list to page through; `add_status` then labels the rows shown)."""
    return (
        with_current(Guarantee.objects.filter(company=company))
        .select_related("work", "orderer")
        .only(*LIST_FIELDS)
        .order_by("-concluded_at", "-pk")
    )


def add_status(guarantees, today=None):
    """Label each guarantee (annotated by with_current) with its status today."""
    today = today or timezone.localdate()
    for g in guarantees:
        g.status = status_of(
            cancelled=g.cancelled_at is not None,
            current_version=g.current_version,
            ends_on=g.current_ends_on,
            today=today,
        )
    return guarantees


def get_guarantee_for(company, number):
    """One guarantee of the company by its number; another company's is a 404."""
    guarantee = (
        Guarantee.objects.select_related("work", "orderer", "office", "company")
        .filter(company=company, number=number)
        .first()
    )
    if guarantee is None:
        raise Http404
    return guarantee


def versions_of(guarantee):
    """All certificate versions, oldest first, with their stored documents."""
    return list(guarantee.certificates.order_by("version").prefetch_related("documents"))


def status_of_guarantee(guarantee, current, today=None):
    return status_of(
        cancelled=guarantee.cancelled_at is not None,
        current_version=current.version,
        ends_on=current.ends_on,
        today=today,
    )


def get_document(guarantee, version, kind):
    document = (
        Document.objects.select_related("certificate")
        .filter(certificate__guarantee=guarantee, certificate__version=version, kind=kind)
        .first()
    )
    if document is None:
        raise Http404
    return document


def submission_office(guarantee):
    """The orderer's office to hand the key notice to: the work's office when it handles
    this kind of guarantee, else the first office that does, else the work's office."""
    office = guarantee.office
    if office is not None and guarantee.kind in office.handles_kinds:
        return office
    for candidate in guarantee.orderer.offices.order_by("pk"):
        if guarantee.kind in candidate.handles_kinds:
            return candidate
    return office
