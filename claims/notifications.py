"""Mails of a claim, through esure.mail (durable, queued in the deciding transaction).

Each step (受付, 書類の追加依頼, 再提出, 支払決定, お支払いできません, 支払済) is told to the
claiming office (its users and notification address) and to the contractor, each with the
page they log in to; staff hear of what waits for their decision. Like the money flow's mails
(advances.notifications) they carry no amount, only what happened and where to read it: a
mail may be forwarded. The message, reason or note of the step is quoted: it is written for
both parties to read.
"""

from django.contrib.auth import get_user_model
from django.urls import reverse

from certificates.notifications import office_emails
from esure.mail import send_templated_mail


def _company_emails(guarantee):
    return [
        m.user.email
        for m in guarantee.company.memberships.select_related("user").order_by("pk")
        if m.user.is_active
    ]


def _staff_emails():
    users = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("pk")
    return [u.email for u in users]


def _send(name, recipients, **context):
    if recipients:
        send_templated_mail(f"emails/claims_{name}", context, recipients)


def step(claim, *, note):
    """The claim moved (or was filed): the office and the contractor are told."""
    guarantee = claim.guarantee
    context = {
        "claim": claim,
        "guarantee": guarantee,
        "work": guarantee.work,
        "status": claim.get_status_display(),
        "note": note,
    }
    _send(
        "step_office",
        office_emails(claim.office),
        path=reverse("claims:office_detail", args=[claim.pk]),
        **context,
    )
    _send(
        "step_contractor",
        _company_emails(guarantee),
        path=reverse("claims:detail", args=[claim.pk]),
        **context,
    )


def to_staff(claim):
    """A filed or resubmitted claim waits for staff's review."""
    _send(
        "review",
        _staff_emails(),
        claim=claim,
        guarantee=claim.guarantee,
        status=claim.get_status_display(),
        admin_path=reverse("admin:claims_claim_change", args=[claim.pk]),
    )
