"""Staff logins (and failed attempts on staff addresses) go to the audit trail.

allauth logs users in through django.contrib.auth.login, which sends user_logged_in after
the MFA step; a wrong password ends in user_login_failed. Only the client's address is kept
(esure.clientip, so behind the proxy too): never the password (the credentials dict carries
it), never the session key.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from audit.models import AuditEvent
from audit.services import record
from esure.clientip import client_ip

A = AuditEvent.Action


def _ip(request):
    return client_ip(request) if request is not None else ""


@receiver(user_logged_in, dispatch_uid="audit_staff_login")
def staff_logged_in(sender, request, user, **kwargs):
    if user.is_staff:
        record(actor=user, action=A.STAFF_LOGIN, obj=user, data={"ip": _ip(request)})


@receiver(user_login_failed, dispatch_uid="audit_staff_login_failed")
def staff_login_failed(sender, credentials, request=None, **kwargs):
    # Only an existing staff address is recorded, as the object: whatever else was typed
    # (perhaps a password in the wrong field) stays out of the trail.
    email = credentials.get("email") or credentials.get("username") or ""
    if not isinstance(email, str) or "@" not in email:
        return
    staff = get_user_model().objects.filter(email__iexact=email.strip(), is_staff=True).first()
    if staff is not None:
        record(actor="anonymous", action=A.STAFF_LOGIN_FAILED, obj=staff, data={"ip": _ip(request)})
