"""Writes of the API app: tokens (created, revoked) and the access log of every call.

A token is `esure_` + 43 URL-safe characters (secrets.token_urlsafe(32): 256 random bits).
Only its SHA-256 is stored: the person who creates it sees it once (docs/decisions/0024).
"""

import datetime
import hashlib
import json
import logging
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from api import webhooks
from api.models import (
    ApiRequest,
    ApiToken,
    IdempotencyKey,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from api.problems import problem_body
from audit import services as audit
from certificates import services as registry
from esure.mail import send_templated_mail

logger = logging.getLogger(__name__)

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


# --- Webhooks (docs/decisions/0025) -------------------------------------------------------

MSG_NO_EVENTS = "送信するイベントを1つ以上選んでください。"
MSG_ENDPOINT_DISABLED = "この送信先は停止中です。再開してから再送してください。"


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def create_endpoint(*, office, url, events, by):
    """A webhook endpoint of `office` for `events` (webhooks.EVENT_TYPES). The URL must pass
    the SSRF guard (webhooks.check_target). Returns it with its signing secret, shown once."""
    events = [e for e in webhooks.EVENT_TYPES if e in set(events)]
    if not events:
        raise ValidationError({"events": MSG_NO_EVENTS})
    try:
        webhooks.check_target(url)
    except webhooks.UnsafeTarget as error:
        raise ValidationError({"url": str(error)}) from error
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            office=office, url=url, events=events, salt=secrets.token_hex(16), created_by=by
        )
        audit.record(
            actor=by,
            action="webhook.created",
            obj=endpoint,
            data={"office_id": office.pk, "url": url, "events": events},
        )
    return NewEndpoint(endpoint=endpoint, secret=webhooks.secret_of(endpoint))


def disable_endpoint(*, endpoint, by=None, reason="利用者が停止"):
    """停止: no more attempts to this endpoint (pending deliveries fail at their next try)."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if endpoint.disabled_at is not None:
            return endpoint
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = reason[:200]
        endpoint.save(update_fields=["disabled_at", "disabled_reason"])
        audit.record(
            actor=by,
            action="webhook.disabled",
            obj=endpoint,
            data={"office_id": endpoint.office_id, "url": endpoint.url, "reason": reason[:200]},
        )
        if by is None:  # disabled by esure: the office hears of it
            _mail_disabled(endpoint)
    return endpoint


def enable_endpoint(*, endpoint, by):
    """再開: the endpoint takes events again (from now on; resend what it missed)."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.failing_since = None
        endpoint.save(update_fields=["disabled_at", "disabled_reason", "failing_since"])
        audit.record(
            actor=by,
            action="webhook.enabled",
            obj=endpoint,
            data={"office_id": endpoint.office_id, "url": endpoint.url},
        )
    return endpoint


def _mail_disabled(endpoint):
    office = endpoint.office
    recipients = sorted(
        {m.user.email for m in office.members.select_related("user") if m.user.is_active}
        | ({office.notification_email} if getattr(office, "notification_email", "") else set())
    )
    if recipients:
        send_templated_mail(
            "emails/webhook_disabled",
            {"endpoint": endpoint, "office": office, "days": webhooks.DISABLE_AFTER.days},
            recipients,
        )


def emit(*, office_id, type, source, data):
    """One event for one office, delivered to each of its active endpoints that chose this
    type. Idempotent per (office, type, source): collecting twice sends once. Returns the
    event, or None when no endpoint wants it."""
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(office_id=office_id, disabled_at__isnull=True)
        if type in e.events
    ]
    if not endpoints:
        return None
    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            office_id=office_id,
            type=type,
            source=source,
            defaults={"msg_id": "msg_" + uuid.uuid4().hex, "payload": {}},
        )
        if not created:
            return event
        event.payload = {
            "type": type,
            "timestamp": event.created_at.isoformat(),
            "data": data,
        }
        event.save(update_fields=["payload"])
        for endpoint in endpoints:
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint, event=event, next_attempt_at=event.created_at
            )
            webhooks.enqueue(delivery)
    return event


def resend(*, delivery, by):
    """再送: the same event (same webhook-id) to the same endpoint, as a new delivery."""
    endpoint = delivery.endpoint
    if not endpoint.active:
        raise ValidationError(MSG_ENDPOINT_DISABLED)
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            endpoint=endpoint, event=delivery.event, next_attempt_at=timezone.now()
        )
        audit.record(
            actor=by,
            action="webhook.resent",
            obj=again,
            data={"endpoint_id": endpoint.pk, "msg_id": delivery.event.msg_id},
        )
        webhooks.enqueue(again)
    return again


def attempt_delivery(*, delivery_id, attempt):
    """One attempt (the task's body): sign, POST, log; then done, retry or disable."""
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    if delivery.status != WebhookDelivery.Status.PENDING:
        return "done"
    endpoint = delivery.endpoint
    if not endpoint.active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, next_attempt_at=None
        )
        return "endpoint disabled"
    now = timezone.now()
    body = webhooks.body_of(delivery.event)
    headers = webhooks.signed_headers(endpoint, delivery.event, body, now)
    status, error, duration = webhooks.post(endpoint.url, body, headers)
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=attempt,
        at=now,
        response_status=status,
        error=error,
        duration_ms=duration,
    )
    if status is not None and 200 <= status < 300:
        with transaction.atomic():
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=WebhookDelivery.Status.SUCCEEDED, next_attempt_at=None
            )
            WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(
                failing_since=None
            )
        return "delivered"
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.failing_since is None:
            locked.failing_since = now
            locked.save(update_fields=["failing_since"])
        if now - locked.failing_since >= webhooks.DISABLE_AFTER:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=WebhookDelivery.Status.FAILED, next_attempt_at=None
            )
            disable_endpoint(
                endpoint=locked,
                reason=f"{webhooks.DISABLE_AFTER.days}日間送信に失敗したため自動で停止",
            )
            return "endpoint disabled"
        delay = webhooks.backoff(attempt)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + delay)
        webhooks.enqueue(delivery, attempt=attempt + 1, delay=delay)
    logger.info(
        "webhook %s attempt %s failed (%s)", delivery.event.msg_id, attempt, status or error
    )
    return "retry scheduled"


# --- 受領・返戻 through the API, once per Idempotency-Key (docs/decisions/0032) -------------

RECEIPT = "receipt"
RETURN = "return"


class KeyReused(Exception):
    """The office sent this Idempotency-Key before with another request."""


@dataclass(frozen=True)
class Answer:
    status: int  # 200, or 409 for a version already answered
    body: dict
    replayed: bool  # the stored answer to an earlier request with the same key


def token_label(token):
    """How the audit trail names a token acting for its office (no person stands behind it)."""
    return f"api-token:{token.pk} ({token.prefix}…)"


def idempotency_window():
    return datetime.timedelta(hours=settings.ESURE_API_IDEMPOTENCY_HOURS)


def purge_idempotency_keys(*, now=None):
    """Forget the Idempotency-Keys older than ESURE_API_IDEMPOTENCY_HOURS (send_webhooks runs
    it every minute; a key used again after that is also forgotten at its use). Returns how
    many were deleted."""
    now = now or timezone.now()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=now - idempotency_window()).delete()
    return deleted


def request_digest(*, action, number, version, text):
    """What makes two requests "the same" for an Idempotency-Key: the operation, the
    guarantee (its stored number, however it was typed), the version and the body's text."""
    request = {"action": action, "number": number, "version": version, "text": text}
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def _answer_body(submission):
    return {
        "number": submission.guarantee.number,
        "version": submission.certificate.version,
        "status": submission.status,
        "status_label": submission.get_status_display(),
        # As the API's renderer writes times (DjangoJSONEncoder): 2026-11-30T01:00:00Z.
        "decided_at": DjangoJSONEncoder().default(submission.decided_at),
        "note": submission.reason,
    }


def answer_version(*, token, certificate, action, text, key):
    """受領 (`action` RECEIPT, `text` the note) or 返戻 (RETURN, `text` the reason) of one
    version for the token's office, through the registry's services (the office pages' own),
    attributed to the token. Once per (office, `key`): the first answer — 200, or 409 for a
    version already answered — is stored in the same transaction, and a repeat within
    ESURE_API_IDEMPOTENCY_HOURS with the same request gets it back without acting again; with
    another request, KeyReused. A repeat arriving while the first is still running waits on
    the first's insert of the key (the unique constraint), then reads its answer. Any other
    refusal (a blank reason) raises ValidationError and stores nothing."""
    office = token.office
    guarantee = certificate.guarantee
    digest = request_digest(
        action=action, number=guarantee.number, version=certificate.version, text=text
    )
    now = timezone.now()
    with transaction.atomic():
        IdempotencyKey.objects.filter(
            office=office, key=key, created_at__lt=now - idempotency_window()
        ).delete()
        record, created = IdempotencyKey.objects.get_or_create(
            office=office,
            key=key,
            defaults={"token": token, "request_digest": digest, "created_at": now},
        )
        if not created:
            if record.request_digest != digest:
                raise KeyReused
            return Answer(status=record.status, body=record.body, replayed=True)
        by = registry.OfficeSystem(office_id=office.pk, label=token_label(token))
        try:
            if action == RECEIPT:
                submission = registry.receive(
                    certificate=certificate, office=office, by=by, note=text
                )
            else:
                submission = registry.return_(
                    certificate=certificate, office=office, by=by, reason=text
                )
        except ValidationError as error:
            if error.code != "already_answered":
                raise
            status, body = 409, problem_body(409, " ".join(error.messages))
        else:
            status, body = 200, _answer_body(submission)
        record.status, record.body = status, body
        record.save(update_fields=["status", "body"])
    return Answer(status=status, body=body, replayed=False)
