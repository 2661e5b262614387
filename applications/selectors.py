"""Read access for the application workflow: access helpers and the menu-2/3 work lists."""

from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone

from applications import fees
from applications.models import Application, ApplicationItem, FeeTable
from certificates.models import Work
from esure.choices import GuaranteeKind

S = Application.Status
# An approved application counts as guaranteed until issuance exists (then: concluded).
GUARANTEED = (S.APPROVED, S.CONCLUDED)
TAKEN = (S.DRAFT, S.SUBMITTED, S.RETURNED, S.APPROVED, S.CONCLUDED)


def get_application_for(company, pk):
    """One application of the user's company; another company's is a 404 like a missing one."""
    return get_object_or_404(
        Application.objects.select_related("work", "work__orderer", "work__office"),
        pk=pk,
        company=company,
    )


def applications_of(company, *, status=None, orderer_id=None):
    """Menu 4: the company's applications, newest change first, with items and work."""
    qs = (
        Application.objects.filter(company=company)
        .select_related("work", "work__orderer")
        .prefetch_related(Prefetch("items", queryset=ApplicationItem.objects.order_by("kind")))
        .order_by("-updated_at", "-pk")
    )
    if status:
        qs = qs.filter(status=status)
    if orderer_id:
        qs = qs.filter(work__orderer_id=orderer_id)
    return qs


def _item_exists(kind, statuses):
    return Exists(
        ApplicationItem.objects.filter(
            application__work=OuterRef("pk"), kind=kind, application__status__in=statuses
        )
    )


def works_for_advance(company):
    """Menu 2: works with a 契約保証 (approved or concluded) and no 前払金保証 yet."""
    return (
        Work.objects.filter(company=company)
        .filter(_item_exists(GuaranteeKind.CONTRACT, GUARANTEED))
        .exclude(_item_exists(GuaranteeKind.ADVANCE, TAKEN))
        .select_related("orderer")
        .order_by("-created_at")
    )


def works_for_intermediate(company):
    """Menu 3: works with a guaranteed 前払金 and no 中間前払金保証 yet."""
    return (
        Work.objects.filter(company=company)
        .filter(_item_exists(GuaranteeKind.ADVANCE, GUARANTEED))
        .exclude(_item_exists(GuaranteeKind.INTERMEDIATE, TAKEN))
        .select_related("orderer")
        .order_by("-created_at")
    )


def guaranteed_amount(work, kind):
    """The amount of `kind` guaranteed (approved or concluded) for the work, or None."""
    item = (
        ApplicationItem.objects.filter(
            application__work=work, kind=kind, application__status__in=GUARANTEED
        )
        .order_by("-application__submitted_at")
        .first()
    )
    return item.amount if item else None


def other_requests_of_kind(application, kind):
    """Other live applications of the same work that request the same kind."""
    return (
        ApplicationItem.objects.filter(
            application__work_id=application.work_id, kind=kind, application__status__in=TAKEN
        )
        .exclude(application_id=application.pk)
        .exists()
    )


def fee_brackets(kind, day=None):
    """The brackets of the fee table in force for `kind` on `day`, and whether it is a demo."""
    day = day or timezone.localdate()
    table = (
        FeeTable.objects.filter(kind=kind, valid_from__lte=day)
        .order_by("-valid_from")
        .prefetch_related("brackets")
        .first()
    )
    if table is None:
        return [], False
    brackets = [
        fees.Bracket(up_to=b.up_to, rate_ppm=b.rate_ppm, minimum_fee=b.minimum_fee)
        for b in table.brackets.all()
    ]
    return brackets, table.is_demo


def fee_estimate(kind, amount, day=None):
    """保証料の目安 for one guarantee, or None when it cannot be computed yet."""
    if not amount or amount <= 0:
        return None
    brackets, is_demo = fee_brackets(kind, day)
    if not brackets:
        return None
    try:
        return {"fee": fees.compute_fee(amount, brackets), "is_demo": is_demo}
    except ValueError:
        return None
