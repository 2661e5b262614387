"""Mails from the registry (through esure.mail). Never with the key."""

from django.urls import reverse

from esure.mail import send_templated_mail


def key_reissued(guarantee):
    recipients = [m.user.email for m in guarantee.company.memberships.select_related("user")]
    send_templated_mail(
        "emails/key_reissued",
        {"guarantee": guarantee, "detail_path": reverse("certs:detail", args=[guarantee.number])},
        recipients,
    )
