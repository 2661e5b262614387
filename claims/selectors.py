"""Who may see which claim, and what the claim pages read.

- An office user files and follows the claims of their office, on a guarantee that reached
  the office: the inbox's scope (certificates.selectors.office_list — delivered, handed over
  or opened by its users with the key) within the office's orderer. Another office's claim
  or guarantee is a 404, the same answer as for one that does not exist.
- The contractor reads the claims on the guarantees it may read (its own and its JV's,
  certificates.selectors.readable_by); it never acts on them.
"""

import dataclasses
import datetime

from django.db.models import Case, DateField, Exists, F, IntegerField, OuterRef, Value, When
from django.http import Http404

from accounts.models import OfficeMembership
from certificates import numbering
from certificates import selectors as registry
from certificates.models import Guarantee, Submission
from claims.models import Attachment, Claim
from esure.choices import GuaranteeKind

# The guarantees a claim is for (the brief of issue 18): 中間前払金保証 claims are not online.
CLAIMABLE_KINDS = (GuaranteeKind.ADVANCE, GuaranteeKind.CONTRACT)


def office_membership_of(user):
    """The user's office account with its office and orderer (one query), or None."""
    if not user.is_authenticated:
        return None
    return OfficeMembership.objects.select_related("office__orderer").filter(user=user).first()


@dataclasses.dataclass(frozen=True)
class Cover:
    """What a claim reads of its guarantee: the current version's amount and period."""

    amount: int
    starts_on: datetime.date
    ends_on: datetime.date
    cancelled: bool


def cover_of(guarantee):
    """The guarantee's current 保証金額 and 保証期間 (its latest certificate version)."""
    current = (
        guarantee.certificates.order_by("-version").only("amount", "starts_on", "ends_on").first()
    )
    return Cover(
        amount=current.amount,
        starts_on=current.starts_on,
        ends_on=current.ends_on,
        cancelled=guarantee.cancelled_at is not None,
    )


def _reached(office):
    return Exists(Submission.objects.filter(guarantee=OuterRef("pk"), office=office))


def get_guarantee_for_office(office, number):
    """A guarantee of the office's orderer that reached the office (its list), by number;
    any other is a 404."""
    if not numbering.is_stored_form(number):
        raise Http404
    guarantee = (
        Guarantee.objects.select_related("work", "orderer", "company")
        .filter(number=number, orderer_id=office.orderer_id)
        .filter(_reached(office))
        .first()
    )
    if guarantee is None:
        raise Http404
    return guarantee


def _with_relations(queryset):
    return queryset.select_related("guarantee__work", "guarantee__company", "office__orderer")


def claims_of_office(office):
    """The office's claims, open ones first by their due date, then the closed, newest first."""
    return _with_relations(Claim.objects.filter(office=office)).order_by(*review_order())


def get_claim_for_office(office, pk):
    claim = _with_relations(Claim.objects.filter(office=office, pk=pk)).first()
    if claim is None:
        raise Http404
    return claim


def claims_of_company(company):
    """The claims on the guarantees the company may read, in the same order."""
    queryset = Claim.objects.filter(
        guarantee__in=Guarantee.objects.filter(registry.readable_by(company))
    )
    return _with_relations(queryset).order_by(*review_order())


def get_claim_for_company(company, pk):
    claim = (
        _with_relations(Claim.objects.filter(pk=pk))
        .filter(guarantee__in=Guarantee.objects.filter(registry.readable_by(company)))
        .first()
    )
    if claim is None:
        raise Http404
    return claim


def review_order():
    """Open claims first, the nearest due date first (法第13条's 30 days run for each), then
    the closed ones, the latest filed first."""
    return (
        Case(
            *(When(status=status, then=Value(0)) for status in Claim.OPEN),
            default=Value(1),
            output_field=IntegerField(),
        ),
        Case(
            *(When(status=status, then=F("due_on")) for status in Claim.OPEN),
            default=None,
            output_field=DateField(),
        ).asc(nulls_last=True),
        "-filed_at",
        "-pk",
    )


def alive_claim_of(guarantee):
    """The guarantee's claim that is not refused (at most one, by constraint), or None."""
    return Claim.objects.filter(guarantee=guarantee).exclude(status=Claim.Status.REFUSED).first()


def history_of(claim):
    return list(claim.status_changes.select_related("by").order_by("at", "pk"))


def attachments_of(claim):
    return list(claim.attachments.select_related("uploaded_by").order_by("pk"))


def get_attachment(claim, pk):
    attachment = Attachment.objects.filter(claim=claim, pk=pk).first()
    if attachment is None:
        raise Http404
    return attachment
