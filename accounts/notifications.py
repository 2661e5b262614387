"""Mails about accounts. All mail goes through esure.mail.send_templated_mail."""

from django.conf import settings
from django.urls import reverse

from esure.mail import send_templated_mail


def company_verified(company):
    recipients = [m.user.email for m in company.memberships.select_related("user")]
    send_templated_mail(
        "emails/company_verified", {"company": company, "home_path": reverse("home")}, recipients
    )


def member_invited(invitation):
    send_templated_mail(
        "emails/member_invited",
        {"invitation": invitation, "signup_path": reverse("account_signup")},
        [invitation.email],
    )


def bank_user_invited(invitation):
    """The invitation of a bank branch's staff member: sign up or log in with this address."""
    send_templated_mail(
        "emails/bank_user_invited",
        {
            "invitation": invitation,
            "signup_path": reverse("account_signup"),
            "surety_name": settings.ESURE_SURETY_NAME,
        },
        [invitation.email],
    )


def office_user_invited(invitation):
    """The invitation of an orderer's staff member: sign up or log in with this address."""
    send_templated_mail(
        "emails/office_user_invited",
        {"invitation": invitation, "signup_path": reverse("account_signup")},
        [invitation.email],
    )
