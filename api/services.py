"""Writes of the API app: tokens (created, revoked) and the access log of every call.

A token is `esure_` + 43 URL-safe characters (secrets.token_urlsafe(32): 256 random bits).
Only its SHA-256 is stored: the person who creates it sees it once (docs/decisions/0024).
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from api.models import ApiRequest, ApiToken
from audit import services as audit

TOKEN_PREFIX = "esure_"  # noqa: S105 — a prefix, not a secret
TOKEN_BYTES = 32  # 256 bits
SHOWN_PREFIX = 10  # "esure_" + 4 characters: enough to tell tokens apart in a list

MSG_EXPIRES_PAST = "有効期限は現在より後の日時を指定してください。"
MSG_ALREADY_REVOKED = "このAPIトークンはすでに失効しています。"


def digest_of(token: str) -> str:
    """The SHA-256 (hex) of a presented token: what is stored and looked up. A plain hash,
    not a password hasher: the token already has 256 bits of entropy (DESIGN.md §10)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def create_token(*, office, name, by, expires_at=None):
    """A new token for `office`, created by `by` (the office's 管理者). Returns the record and
    the token text, which nothing stores: the page shows it once."""
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": MSG_EXPIRES_PAST})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        token = ApiToken.objects.create(
            office=office,
            name=name,
            digest=digest_of(secret),
            prefix=secret[:SHOWN_PREFIX],
            created_by=by,
            created_at=now,
            expires_at=expires_at,
        )
        audit.record(
            actor=by,
            action="api_token.created",
            obj=token,
            data={
                "office_id": office.pk,
                "name": name,
                "prefix": token.prefix,
                "expires_at": expires_at,
            },
        )
    return NewToken(token=token, secret=secret)


def revoke_token(*, token, by):
    """失効: the token stops working at once (an office 管理者 of its office, or staff)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            raise ValidationError(MSG_ALREADY_REVOKED)
        token.revoked_at = timezone.now()
        token.revoked_by = by
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(
            actor=by,
            action="api_token.revoked",
            obj=token,
            data={"office_id": token.office_id, "name": token.name, "prefix": token.prefix},
        )
    return token


# last_used_at is written at most once a minute per token: not one UPDATE per call.
LAST_USED_PRECISION_SECONDS = 60


def authenticate(presented, *, now=None):
    """The active token whose SHA-256 matches `presented`, or None (unknown, revoked and
    expired tokens alike). Stamps last_used_at (at most once a minute)."""
    if not presented or not presented.startswith(TOKEN_PREFIX) or len(presented) > 100:
        return None
    now = now or timezone.now()
    token = (
        ApiToken.objects.select_related("office__orderer")
        .filter(digest=digest_of(presented))
        .first()
    )
    if token is None or not token.is_active(now):
        return None
    last = token.last_used_at
    if last is None or (now - last).total_seconds() >= LAST_USED_PRECISION_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def log_request(*, token, ip, method, operation, status, number=""):
    """One row of the API access log (api.models.ApiRequest)."""
    return ApiRequest.objects.create(
        token=token,
        ip=ip,
        method=method,
        operation=operation[:40],
        status=status,
        number=number[:11],
    )
