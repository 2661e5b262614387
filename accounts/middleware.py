import time

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse

from accounts.signals import BANK_SESSION_KEY, SESSION_LOGIN_AT, SESSION_SEEN_AT

MSG_SET_UP_MFA = (
    "保証会社職員は二段階認証（TOTP）の設定が必要です。設定するまで他の画面は利用できません。"
)
MSG_BANK_SET_UP_MFA = (
    "金融機関のご担当者は二段階認証（TOTP）の設定が必要です。設定するまで他の画面は利用できません。"
)


class StaffMfaMiddleware:
    """A user who must use TOTP and has none reaches only its setup: surety staff while
    ESURE_STAFF_MFA_REQUIRED is on, bank users (BankMembership) while
    ESURE_BANK_MFA_REQUIRED is on — both see other companies' data, bank users confirm
    withdrawals of money. A bank membership is only made by accepting an invitation, which
    marks the session, as every later login does.

    allauth then asks for the code at every login, so admin and the bank pages are never
    reachable on a password alone. Contractors and office users are not affected.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        message = self._must_set_up(request)
        if message:
            messages.warning(request, message)
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _must_set_up(request):
        """The message to show when the user must set up TOTP first, else None."""
        user = request.user
        if not user.is_authenticated:
            return None
        if user.is_staff:
            required, message = settings.ESURE_STAFF_MFA_REQUIRED, MSG_SET_UP_MFA
        else:
            # Marked at login and when the invitation is accepted (accounts.signals): no
            # query for contractors and office users, whose sessions never carry the mark.
            required = settings.ESURE_BANK_MFA_REQUIRED and request.session.get(BANK_SESSION_KEY)
            message = MSG_BANK_SET_UP_MFA
        if not required:
            return None
        # allauth asks for the password again before the TOTP setup: let that through too.
        allowed = (
            reverse("mfa_activate_totp"),
            reverse("account_reauthenticate"),
            reverse("account_logout"),
            "/" + settings.STATIC_URL,
        )
        if request.path.startswith(allowed):
            return None
        has_totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        return None if has_totp else message


MSG_SESSION_ENDED = (
    "一定時間が経過したため、安全のためログアウトしました。もう一度ログインしてください。"
)
# The last request's time is written at most once a minute: most requests save no session.
SEEN_REFRESH_SECONDS = 60


class SessionLimitsMiddleware:
    """A logged-in session ends ESURE_SESSION_MAX_HOURS after the login, however busy, and
    ESURE_SESSION_IDLE_MINUTES after the last request (docs/decisions/0009): a browser left
    open in a city office or a site hut does not stay a logged-in clerk or staff member.
    The next request is logged out and sent to the login page, then back where it was."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and self._expired(request):
            logout(request)
            messages.info(request, MSG_SESSION_ENDED)
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)

    @staticmethod
    def _expired(request):
        session, now = request.session, int(time.time())
        login_at = session.get(SESSION_LOGIN_AT)
        if login_at is None:  # a session from before the limits: they start now
            session[SESSION_LOGIN_AT] = session[SESSION_SEEN_AT] = now
            return False
        seen_at = session.get(SESSION_SEEN_AT, login_at)
        if (
            now - login_at > settings.ESURE_SESSION_MAX_HOURS * 3600
            or now - seen_at > settings.ESURE_SESSION_IDLE_MINUTES * 60
        ):
            return True
        if now - seen_at > SEEN_REFRESH_SECONDS:
            session[SESSION_SEEN_AT] = now
        return False
