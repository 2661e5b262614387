"""Mails of the money flow, through esure.mail (durable, in the deciding transaction).

Each names the work and the document (明細書 第n版, 払出依頼 第n号) and a page to log in
to; never an amount (a bank or the surety may serve many companies, and a mail may be
forwarded), never a key or a link that works without logging in.
"""

from django.contrib.auth import get_user_model
from django.urls import reverse

from esure.mail import send_templated_mail


def _company_emails(account):
    return [m.user.email for m in account.company.memberships.select_related("user")]


def _staff_emails():
    users = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("pk")
    return [u.email for u in users]


def _bank_emails(account):
    return [m.user.email for m in account.branch.members.select_related("user").order_by("pk")]


def _send(name, recipients, **context):
    if recipients:
        send_templated_mail(f"emails/advances_{name}", context, recipients)


def plan_submitted(plan):
    """To surety staff: a 明細書 (or 使途変更) waits for their decision."""
    account = plan.account
    _send(
        "plan_submitted",
        _staff_emails(),
        plan=plan,
        account=account,
        work=account.work,
        company=account.company,
        admin_path=reverse("admin:advances_useplan_change", args=[plan.pk]),
    )


def plan_decided(plan, *, accepted, reason):
    """To the contractor: the 明細書 was accepted or returned (with the reason)."""
    account = plan.account
    _send(
        "plan_accepted" if accepted else "plan_returned",
        _company_emails(account),
        plan=plan,
        account=account,
        work=account.work,
        reason=reason,
        path=reverse("advances:account", args=[account.pk]),
    )


def withdrawal_submitted(withdrawal):
    """To the branch's bank users: a request waits for their check."""
    account = withdrawal.account
    _send(
        "withdrawal_submitted",
        _bank_emails(account),
        withdrawal=withdrawal,
        account=account,
        company=account.company,
        path=reverse("bank:withdrawal", args=[withdrawal.pk]),
    )


def cash_review_requested(withdrawal):
    """To surety staff: a cash withdrawal waits for their approval (rule 8)."""
    account = withdrawal.account
    _send(
        "cash_review",
        _staff_emails(),
        withdrawal=withdrawal,
        account=account,
        company=account.company,
        admin_path=reverse("admin:advances_withdrawal_change", args=[withdrawal.pk]),
    )


def _to_contractor(name, withdrawal, **extra):
    account = withdrawal.account
    _send(
        name,
        _company_emails(account),
        withdrawal=withdrawal,
        account=account,
        work=account.work,
        path=reverse("advances:withdrawal", args=[account.pk, withdrawal.number]),
        **extra,
    )


def withdrawal_confirmed(withdrawal):
    _to_contractor("withdrawal_confirmed", withdrawal)


def withdrawal_rejected(withdrawal, reason):
    _to_contractor("withdrawal_rejected", withdrawal, reason=reason)


def withdrawal_executed(withdrawal):
    _to_contractor("withdrawal_executed", withdrawal)


def account_released(account, *, voided=()):
    """To the bank's users at the branch: the designation ended (指定解除) — no withdrawal
    from now on, and the requests still waiting for their check are closed (`voided`). The
    contractor hears of the completion in the registry's 完成 mail, and of closed requests
    here (they were the contractor's)."""
    _send(
        "account_released",
        _bank_emails(account),
        account=account,
        work=account.work,
        company=account.company,
        voided=voided,
        path=reverse("bank:account", args=[account.pk]),
    )
    if voided:
        _send(
            "withdrawals_voided",
            _company_emails(account),
            account=account,
            work=account.work,
            voided=voided,
            path=reverse("advances:account", args=[account.pk]),
        )
