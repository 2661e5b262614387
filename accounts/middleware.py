from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

MSG_SET_UP_MFA = (
    "保証会社職員は二段階認証（TOTP）の設定が必要です。設定するまで他の画面は利用できません。"
)


class StaffMfaMiddleware:
    """With ESURE_STAFF_MFA_REQUIRED on, a staff user without TOTP reaches only its setup.

    allauth then asks for the code at every login, so admin is never reachable on a password
    alone. Non-staff users are not affected.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_set_up(request):
            messages.warning(request, MSG_SET_UP_MFA)
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _must_set_up(request):
        user = request.user
        if not (settings.ESURE_STAFF_MFA_REQUIRED and user.is_authenticated and user.is_staff):
            return False
        # allauth asks for the password again before the TOTP setup: let that through too.
        allowed = (
            reverse("mfa_activate_totp"),
            reverse("account_reauthenticate"),
            reverse("account_logout"),
            "/" + settings.STATIC_URL,
        )
        if request.path.startswith(allowed):
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
