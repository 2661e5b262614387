"""Marks written into the session at login: a bank user's (so the MFA middleware knows it
without a query on every request of every other user) and the login time every session
limit counts from (accounts.middleware.SessionLimitsMiddleware)."""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from accounts.models import BankMembership

BANK_SESSION_KEY = "esure_bank_user"
SESSION_LOGIN_AT = "esure_login_at"
SESSION_SEEN_AT = "esure_seen_at"


def mark_bank_session(request):
    """Remember in the session that this user is a bank user (TOTP required)."""
    if request is not None and hasattr(request, "session"):
        request.session[BANK_SESSION_KEY] = True


@receiver(user_logged_in, dispatch_uid="accounts_mark_bank_session")
def bank_user_logged_in(sender, request, user, **kwargs):
    if not user.is_staff and BankMembership.objects.filter(user=user).exists():
        mark_bank_session(request)


@receiver(user_logged_in, dispatch_uid="accounts_mark_login_time")
def mark_login_time(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_LOGIN_AT] = request.session[SESSION_SEEN_AT] = int(time.time())
