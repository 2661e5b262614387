"""Demo data of the API for `make run` (after load_demo): the 土木課 工事担当's 管理者, a demo API
token for that office, and the demo guarantee handed over to it, so every example in
docs/api.md runs as written. The token is derived from SECRET_KEY (var/.env), so each run
prints the same one without storing it. Idempotent; refuses outside DEBUG."""

import base64
import hashlib
import hmac

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import OfficeMembership, OrdererOffice, OrdererSubmissionChannel, User
from api import selectors, services
from api.models import ApiToken
from certificates import services as registry
from certificates.models import Guarantee
from certificates.services import current_key
from esure.choices import GuaranteeKind, SubmissionChannel

ADMIN_EMAIL = "api@demo.esure.example"
ADMIN_PASSWORD = "demo-api-office-2026"  # noqa: S105 — demo only, printed on purpose
OFFICE = ("津久見市", "土木課 工事担当")


def demo_token_text():
    """esure_ + 43 characters of HMAC(SECRET_KEY, label): the same for one var/.env."""
    mac = hmac.new(settings.SECRET_KEY.encode(), b"esure demo api token", hashlib.sha256)
    return services.TOKEN_PREFIX + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


class Command(BaseCommand):
    help = "Loads the API demo (a token for 津久見市 土木課, its 管理者). Only with DEBUG on."

    def handle(self, *args, **options):
        if not settings.ESURE_DEMO_ALLOWED:
            raise CommandError("Demo data loads only with DEBUG on (never in production).")
        office = OrdererOffice.objects.filter(orderer__name=OFFICE[0], name=OFFICE[1]).first()
        if office is None:
            raise CommandError("Run `manage.py load_demo` first (津久見市 and its offices).")
        with transaction.atomic():
            admin = self._admin(office)
            secret = demo_token_text()
            digest = services.digest_of(secret)
            if not ApiToken.objects.filter(digest=digest).exists():
                ApiToken.objects.create(
                    office=office,
                    name="デモ用トークン",
                    digest=digest,
                    prefix=secret[: services.SHOWN_PREFIX],
                    created_by=admin,
                )
            guarantee = self._handed_over(office, admin)
        self.stdout.write(
            f"\n  API (発注機関 {office}): token {secret}  (demo only; docs/api.md)"
            f"\n  Office 管理者 (APIトークン・Webhook): {ADMIN_EMAIL} / {ADMIN_PASSWORD}"
            f"  → /api/tokens/"
        )
        if guarantee is not None:
            self.stdout.write(
                f"  export ESURE=http://127.0.0.1:8000 TOKEN={secret}"
                f" NUMBER={guarantee.number_display} KEY={current_key(guarantee)}\n"
            )

    def _admin(self, office):
        user = User.objects.filter(email=ADMIN_EMAIL).first()
        if user is None:
            user = User.objects.create_user(
                ADMIN_EMAIL, ADMIN_PASSWORD, name="津久見市 土木課 管理者"
            )
            EmailAddress.objects.get_or_create(
                user=user, email=ADMIN_EMAIL, defaults={"verified": True, "primary": True}
            )
            OfficeMembership.objects.create(
                user=user, office=office, role=OfficeMembership.Role.ADMIN
            )
        return user

    def _handed_over(self, office, admin):
        """The demo's first 津久見市 前払金保証, handed over to the office (demo only)."""
        guarantee = (
            Guarantee.objects.filter(orderer=office.orderer, kind=GuaranteeKind.ADVANCE)
            .exclude(key_version=0)
            .order_by("pk")
            .first()
        )
        if guarantee is None:
            return None
        if office.pk not in selectors.offices_reached(guarantee):
            OrdererSubmissionChannel.objects.get_or_create(
                orderer=office.orderer, kind=guarantee.kind, channel=SubmissionChannel.HANDOVER
            )
            clerk = guarantee.company.memberships.select_related("user").first()
            by = clerk.user if clerk else admin
            registry.hand_over(guarantee=guarantee, office=office, by=by)
        return guarantee
