"""Reads of the registry: current versions and terms, statuses, access helpers."""

import datetime
from dataclasses import dataclass

from django.db.models import OuterRef, Q, Subquery
from django.http import Http404
from django.utils import timezone

from accounts.selectors import joint_venture_ids_of
from certificates import numbering
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


def readable_by(company):
    """What the company may read: its own guarantees and those of the 共同企業体 it is a
    member of (read-only for members other than the 代表者, who owns them)."""
    return Q(company=company) | Q(work__joint_venture__in=joint_venture_ids_of(company))


def guarantees_of(company):
    """The guarantees the company may read (readable_by), newest first, each with its
    current values (a queryset, for the list to page through; `add_status` then labels the
    rows shown)."""
    return (
        with_current(Guarantee.objects.filter(readable_by(company)))
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


def get_guarantee_readable_by(company, number):
    """One guarantee the company may read (its own, or its JV's as a member) by its number;
    any other is a 404. For pages and files that change nothing."""
    if not numbering.is_stored_form(number):
        raise Http404
    guarantee = (
        Guarantee.objects.select_related("work", "orderer", "office", "company")
        .filter(readable_by(company), number=number)
        .first()
    )
    if guarantee is None:
        raise Http404
    return guarantee


def get_guarantee_for(company, number):
    """One guarantee of the company by its number; another company's is a 404, and so is
    anything that is not 11 ASCII digits (a posted NUL would make PostgreSQL raise). A JV's
    guarantee belongs to its 代表者: this is the helper for every action on it."""
    if not numbering.is_stored_form(number):
        raise Http404
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


@dataclass(frozen=True)
class Terms:
    """A guarantee's current terms: the values of its latest certificate version, typed.

    What the other apps read (the workflow's changes and fees, advances, the API) instead of
    the certificate content's JSON layout, which is the registry's own.
    """

    number: str
    kind: str
    version: int  # the current version (1 = 当初)
    amount: int  # 保証金額
    starts_on: datetime.date  # 保証期間の始期
    ends_on: datetime.date  # 保証期限
    price: int  # 請負代金額, as changed
    work_start: datetime.date  # 工期（自）
    work_end: datetime.date  # 工期（至）, as changed
    paid_fee: int  # 保証料 paid in: the first fee and every 追加保証料 (not refunds)
    cancelled: bool  # 解約済


# The fee statements of versions whose fee was paid in (a 返還 or no change pays nothing);
# a version 1 fee carries no kind.
_PAID_IN = ("initial", "additional")


def current_terms(guarantee):
    """The current Terms of a concluded guarantee (one query over its versions)."""
    versions = list(
        guarantee.certificates.order_by("version").only(
            "version", "amount", "starts_on", "ends_on", "content"
        )
    )
    current = versions[-1]
    work = current.content["work"]
    return Terms(
        number=guarantee.number,
        kind=guarantee.kind,
        version=current.version,
        amount=current.amount,
        starts_on=current.starts_on,
        ends_on=current.ends_on,
        price=work["price"],
        work_start=datetime.date.fromisoformat(work["start_date"]),
        work_end=datetime.date.fromisoformat(work["end_date"]),
        paid_fee=sum(
            (v.content.get("fee") or {}).get("fee", 0)
            for v in versions
            if (v.content.get("fee") or {}).get("kind", "initial") in _PAID_IN
        ),
        cancelled=guarantee.cancelled_at is not None,
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
