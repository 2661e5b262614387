"""Mails to the company about its application (through esure.mail, one sending function)."""

from django.urls import reverse

from accounts.models import Membership
from esure.mail import send_templated_mail


def recipients_of(application):
    """The company's members, and for a 共同企業体 every member company's (the same mails)."""
    companies = [application.company_id]
    if application.work.joint_venture_id:
        companies = application.work.joint_venture.members.values_list("company_id", flat=True)
    members = Membership.objects.filter(company_id__in=list(companies)).select_related("user")
    return [m.user.email for m in members.order_by("company_id", "joined_at")]


def _send(name, application, **extra):
    recipients = recipients_of(application)
    context = {
        "application": application,
        "work": application.work,
        "detail_path": reverse("applications:detail", args=[application.pk]),
        **extra,
    }
    send_templated_mail(f"emails/application_{name}", context, recipients)


def application_returned(application, reason):
    _send("returned", application, reason=reason)


def application_declined(application, reason):
    _send("declined", application, reason=reason)


def application_approved(application):
    _send("approved", application)


def guarantees_concluded(application, guarantees):
    """「電子証書・認証キー登録のお知らせ」 (or, for 書面交付, the conclusion notice).

    Names each guarantee and tells the clerk to log in; never the key, never a link that
    works without logging in.
    """
    electronic = application.delivery == application.Delivery.ELECTRONIC
    _send(
        "concluded_electronic" if electronic else "concluded_paper",
        application,
        guarantees=guarantees,
        certificates_path=reverse("certs:index"),
    )


def change_concluded(application, certificate):
    """A new version (変更保証証書) exists: hand it to the orderer again. Never the key."""
    guarantee = application.guarantee
    _send(
        "change_concluded",
        application,
        guarantee=guarantee,
        certificate=certificate,
        certificate_path=reverse("certs:detail", args=[guarantee.number]),
    )
