"""The printed forms of the money flow, rendered once at submission and stored:
前払金使途内訳明細書 (a plan version) and 前払金払出依頼書 (a withdrawal), in the familiar
layout, for banks not yet on esure and for the files. WeasyPrint with the IPAex fonts through
the registry's one renderer (certificates.pdf.render_pdf): no second copy of it here."""

from django.conf import settings
from django.utils import timezone

from advances import selectors
from certificates import pdf as registry_pdf
from esure.choices import GuaranteeKind


def _common(account):
    terms = selectors.account_terms(account)
    return {
        "account": account,
        "company": account.company,
        "work": account.work,
        "orderer": account.work.orderer,
        "terms": terms,
        "surety_name": settings.ESURE_SURETY_NAME,
        "kinds": GuaranteeKind,
    }


def plan_context(plan):
    """What the 明細書 shows: the account, the guarantees' amounts, the lines with totals."""
    account = plan.account
    lines = list(plan.lines.select_related("category").order_by("key"))
    totals = {}
    for line in lines:
        totals[line.get_funding_display()] = totals.get(line.get_funding_display(), 0) + line.amount
    return {
        **_common(account),
        "plan": plan,
        "lines": lines,
        "totals": totals,
        "total": sum(line.amount for line in lines),
        "day": timezone.localdate(plan.submitted_at or timezone.now()),
    }


def render_plan(plan) -> bytes:
    return registry_pdf.render_pdf("advances/pdf/plan.html", plan_context(plan))


def withdrawal_context(withdrawal):
    account = withdrawal.account
    lines = list(withdrawal.lines.select_related("plan_line__category").order_by("pk"))
    return {
        **_common(account),
        "withdrawal": withdrawal,
        "lines": lines,
        "total": sum(line.amount for line in lines),
        "day": timezone.localdate(withdrawal.submitted_at or timezone.now()),
    }


def render_withdrawal(withdrawal) -> bytes:
    return registry_pdf.render_pdf("advances/pdf/withdrawal.html", withdrawal_context(withdrawal))
