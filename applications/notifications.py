"""Mails to the company about its application (through esure.mail, one sending function)."""

from django.urls import reverse

from esure.mail import send_templated_mail


def _send(name, application, **extra):
    recipients = [m.user.email for m in application.company.memberships.select_related("user")]
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
