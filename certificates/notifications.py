"""Mails from the registry (through esure.mail). Never with the key.

The links name the faces' pages by URL name only (the registry imports no face).
"""

from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import OrdererOffice
from esure.mail import send_templated_mail


def _company_emails(guarantee):
    return [m.user.email for m in guarantee.company.memberships.select_related("user")]


def _staff_emails():
    users = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("pk")
    return [u.email for u in users]


def office_emails(office):
    """An office's users and its notification address (accounts.OrdererOffice), once each."""
    emails = [
        m.user.email
        for m in office.members.select_related("user").order_by("pk")
        if m.user.is_active
    ]
    if office.notification_email:
        emails.append(office.notification_email)
    return list(dict.fromkeys(e.lower() for e in emails))


def key_reissued(guarantee):
    send_templated_mail(
        "emails/key_reissued",
        {"guarantee": guarantee, "detail_path": reverse("certs:detail", args=[guarantee.number])},
        _company_emails(guarantee),
    )


def delivered_to_office(submission):
    """「電子証書が届きました」 to the office: number, kind, 工事名, a link to log in. No key:
    the office's users open it without one."""
    recipients = office_emails(submission.office)
    if not recipients:
        return
    guarantee = submission.guarantee
    send_templated_mail(
        "emails/submission_delivered",
        {
            "submission": submission,
            "guarantee": guarantee,
            "certificate": submission.certificate,
            "work": guarantee.work,
            "viewer_path": reverse("dsure:viewer", args=[guarantee.number]),
        },
        recipients,
    )


def submission_returned(submission):
    """返戻: the contractor and surety staff read the office's reason."""
    guarantee = submission.guarantee
    send_templated_mail(
        "emails/submission_returned",
        {
            "submission": submission,
            "guarantee": guarantee,
            "certificate": submission.certificate,
            "work": guarantee.work,
            "detail_path": reverse("certs:detail", args=[guarantee.number]),
        },
        list(dict.fromkeys(_company_emails(guarantee) + _staff_emails())),
    )


def office_alert(alert, *, certificate):
    """「保証内容の変更のお知らせ」 to an office holding the guarantee on the key path."""
    recipients = office_emails(alert.office)
    if not recipients:
        return
    guarantee = alert.guarantee
    send_templated_mail(
        "emails/office_alert_changed",
        {
            "alert": alert,
            "office": alert.office,
            "guarantee": guarantee,
            "certificate": certificate,
            "work": guarantee.work,
            "viewer_path": reverse("dsure:viewer", args=[guarantee.number]),
            "list_path": reverse("dsure:inbox"),
        },
        recipients,
    )


def expiry_alerts(alerts, *, ends):
    """「保証期限が近づいています」: one mail per office listing its guarantees that end soon."""
    office = alerts[0].office
    recipients = office_emails(office)
    if not recipients:
        return
    rows = [
        {"guarantee": a.guarantee, "work": a.guarantee.work, "ends_on": ends[a.guarantee_id]}
        for a in alerts
    ]
    send_templated_mail(
        "emails/office_alert_expiring",
        {"office": office, "rows": rows, "list_path": reverse("dsure:inbox")},
        recipients,
    )


def guarantee_completed(guarantee):
    """「完成の記録のお知らせ」 to the contractor: the guarantee is 完了 (and a designated account
    of the work is released — its page says so)."""
    send_templated_mail(
        "emails/guarantee_completed",
        {"guarantee": guarantee, "detail_path": reverse("certs:detail", args=[guarantee.number])},
        _company_emails(guarantee),
    )


def office_completion(alert):
    """「完成が記録されました」 to an office holding the guarantee, but the one that recorded it."""
    recipients = office_emails(alert.office)
    if not recipients:
        return
    guarantee = alert.guarantee
    send_templated_mail(
        "emails/office_alert_completed",
        {
            "office": alert.office,
            "guarantee": guarantee,
            "work": guarantee.work,
            "viewer_path": reverse("dsure:viewer", args=[guarantee.number]),
        },
        recipients,
    )


def refund_due(refund, *, offices):
    """「前払金の返還のお知らせ」: the contractor and each office holding the guarantee read the
    amount to return and the due day (amounts are theirs to know: the orderer paid it)."""
    guarantee = refund.guarantee
    context = {"refund": refund, "guarantee": guarantee, "work": guarantee.work}
    send_templated_mail(
        "emails/refund_due",
        {**context, "detail_path": reverse("certs:detail", args=[guarantee.number])},
        _company_emails(guarantee),
    )
    for office in OrdererOffice.objects.filter(pk__in=offices).order_by("pk"):
        recipients = office_emails(office)
        if recipients:
            send_templated_mail(
                "emails/refund_due_office",
                {
                    **context,
                    "office": office,
                    "viewer_path": reverse("dsure:viewer", args=[guarantee.number]),
                },
                recipients,
            )


def refund_returned(refund):
    """The orderer recorded the return: the contractor is told it is settled."""
    guarantee = refund.guarantee
    send_templated_mail(
        "emails/refund_returned",
        {
            "refund": refund,
            "guarantee": guarantee,
            "work": guarantee.work,
            "detail_path": reverse("certs:detail", args=[guarantee.number]),
        },
        _company_emails(guarantee),
    )
