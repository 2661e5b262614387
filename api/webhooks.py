"""Webhooks: signed events to orderer offices' HTTPS endpoints (docs/decisions/0025).

- Signing per Standard Webhooks (the `standardwebhooks` package): `webhook-id` (the event's
  msg_id, the same on every attempt and resend), `webhook-timestamp` (the attempt's time),
  `webhook-signature` (v1, HMAC-SHA256 with the endpoint's secret).
- Sent by the task worker (`deliver_webhook`), at least once: a failed attempt (no answer,
  or not 2xx) is retried after BACKOFF; an endpoint failing for DISABLE_AFTER is disabled and
  the office mailed. Every attempt is logged (status code, error class, duration).
- SSRF guard: a target must be https and every address its name resolves to must be public
  (ipaddress.is_global); the connection goes to the address that was checked (no second DNS
  answer). settings.ESURE_WEBHOOK_ALLOW_LOOPBACK lets http and loopback through (tests, demo).
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.tasks import task
from django.utils import timezone
from standardwebhooks import Webhook

logger = logging.getLogger(__name__)

EVENT_TYPES = {
    "guarantee.delivered": "電子証書が届いた（当初）",
    "guarantee.version_added": "新しい版が発行された（増額・減額・期限変更）",
    "guarantee.cancelled": "解約された",
    "guarantee.completed": "完成が記録された（完了）",
    "guarantee.expiring": "保証期限が近づいた",
    "guarantee.returned": "返戻した",
}
# Standard Webhooks' suggested schedule, then every 10 hours until the endpoint is disabled.
BACKOFF = [
    datetime.timedelta(seconds=5),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
    datetime.timedelta(hours=5),
    datetime.timedelta(hours=10),
]
DISABLE_AFTER = datetime.timedelta(days=3)  # issue #15: an endpoint failing for 3 days
TIMEOUT_SECONDS = 10
SECRET_PREFIX = "whsec_"  # noqa: S105 — the Standard Webhooks prefix, not a secret

MSG_URL_SCHEME = "送信先URLは https:// で始まるものにしてください。"
MSG_URL_PRIVATE = (
    "送信先URLのホストが内部ネットワークのアドレス（プライベート・ループバック・リンクローカル等）"
    "を指しています。インターネットから届く公開アドレスのURLを指定してください。"
)
MSG_URL_UNRESOLVED = "送信先URLのホスト名を名前解決できません。URLを確認してください。"


class UnsafeTarget(ValueError):
    """The URL may not be called (MSG_URL_* says why, in Japanese)."""


def secret_of(endpoint):
    """The endpoint's signing secret, `whsec_` + base64 of 32 bytes: HMAC-SHA256 of the
    server's secret (ESURE_AUTH_KEY_SECRET, with its own label) and the endpoint's salt.
    Derived, never stored: a new salt is a new secret."""
    mac = hmac.new(
        settings.ESURE_AUTH_KEY_SECRET.encode(),
        f"webhook-endpoint:{endpoint.pk}:{endpoint.salt}".encode(),
        hashlib.sha256,
    )
    return SECRET_PREFIX + base64.b64encode(mac.digest()).decode()


def _allowed(address):
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_global:
        return True
    return settings.ESURE_WEBHOOK_ALLOW_LOOPBACK and address.is_loopback


def check_target(url):
    """(scheme, host, port, address) to connect to for `url`, or UnsafeTarget. Every
    address the host resolves to must be allowed; the first is the one connected to."""
    parts = urlsplit(url)
    loopback_ok = settings.ESURE_WEBHOOK_ALLOW_LOOPBACK
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeTarget(MSG_URL_SCHEME)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeTarget(MSG_URL_SCHEME) from error
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeTarget(MSG_URL_UNRESOLVED) from error
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses or not all(_allowed(a) for a in addresses):
        raise UnsafeTarget(MSG_URL_PRIVATE)
    if parts.scheme == "http" and not (loopback_ok and all(a.is_loopback for a in addresses)):
        raise UnsafeTarget(MSG_URL_SCHEME)
    return parts.scheme, parts.hostname, port, str(addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the host name would resolve to now."""

    def __init__(self, host, port, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url, body, headers):
    """POST body to url after check_target; (status or None, error class name, ms).
    Redirects are not followed (a 3xx is a failed attempt)."""
    started = time.monotonic()
    try:
        scheme, host, port, address = check_target(url)
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        connection = cls(host, port, address, timeout=TIMEOUT_SECONDS)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(64 * 1024)  # never stored: only its status counts
            status = response.status
        finally:
            connection.close()
        error = ""
    except UnsafeTarget:
        status, error = None, "UnsafeTarget"
    except (OSError, http.client.HTTPException) as exc:
        status, error = None, type(exc).__name__
    return status, error, int((time.monotonic() - started) * 1000)


def signed_headers(endpoint, event, body, now):
    signature = Webhook(secret_of(endpoint)).sign(event.msg_id, now, body)
    return {
        "Content-Type": "application/json",
        "User-Agent": "esure-webhooks/1",
        "webhook-id": event.msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def body_of(event):
    return json.dumps(event.payload, ensure_ascii=False, separators=(",", ":")).encode()


def backoff(attempt):
    """The wait after failed attempt `attempt` (1-based)."""
    return BACKOFF[min(attempt, len(BACKOFF)) - 1]


@task()
def deliver_webhook(*, delivery_id, attempt=1):
    """One attempt of one delivery; on failure the next is queued after backoff(attempt)."""
    from api import services

    return services.attempt_delivery(delivery_id=delivery_id, attempt=attempt)


def enqueue(delivery, attempt=1, delay=None):
    """Queue an attempt in the caller's transaction (the database backend's row commits with
    it; the worker runs it after commit)."""
    runner = deliver_webhook
    if delay is not None:
        runner = deliver_webhook.using(run_after=timezone.now() + delay)
    runner.enqueue(delivery_id=delivery.pk, attempt=attempt)
