"""Authentication backends: Django's and allauth's, each loading the logged-in user with the
user's company membership and company joined (a LEFT JOIN: none for staff, office and bank
users). `membership_of(request.user)` then reads no row of its own: one statement fewer on
every contractor page (issue 22, docs/decisions/0038).
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend


class _UserWithMembership:
    def get_user(self, user_id):
        user = (
            get_user_model()
            ._default_manager.select_related("membership__company")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_UserWithMembership, DjangoModelBackend):
    """Django's ModelBackend (admin and password logins)."""


class AuthenticationBackend(_UserWithMembership, AllauthBackend):
    """allauth's backend (login by e-mail address)."""
