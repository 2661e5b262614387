"""The API's own records: office tokens and the access log of every call (docs/decisions/0024).

A token is a random 256-bit value shown once; only its SHA-256 is stored, so a database dump
opens nothing. The access log attributes every call to its token and is what the per-token
limits count (api.limits), as D-Sure's access log is for its throttle.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import OrdererOffice


class ApiToken(models.Model):
    """An orderer office's API token (APIトークン): office-scoped, optionally expiring,
    revocable. `digest` is the SHA-256 (hex) of the token; `prefix` its first characters,
    shown in lists so a person can tell tokens apart (never enough to use one)."""

    office = models.ForeignKey(
        OrdererOffice, on_delete=models.PROTECT, related_name="api_tokens", verbose_name="発注機関"
    )
    name = models.CharField("名前", max_length=100)
    digest = models.CharField("SHA-256", max_length=64)
    prefix = models.CharField("先頭の文字", max_length=16)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="作成者"
    )
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    expires_at = models.DateTimeField("有効期限", null=True, blank=True)
    last_used_at = models.DateTimeField("最終利用日時", null=True, blank=True)
    revoked_at = models.DateTimeField("失効日時", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="失効させた人",
    )

    class Meta:
        verbose_name = "APIトークン"
        verbose_name_plural = "APIトークン"
        constraints = [
            # A UniqueConstraint, not unique=True: no extra _like index (DESIGN.md §10).
            models.UniqueConstraint(fields=["digest"], name="apitoken_digest_unique"),
        ]

    def __str__(self):
        return f"{self.name}（{self.prefix}…）"

    def is_active(self, now=None):
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ApiRequest(models.Model):
    """One API call: which token (None: no valid token), when, from where (the client's
    counting key, esure.clientip), which operation, the 保証契約番号 it named, the status
    answered. Never a token, a key or a request body."""

    token = models.ForeignKey(
        ApiToken,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name="APIトークン",
    )
    at = models.DateTimeField("日時", default=timezone.now)
    ip = models.GenericIPAddressField("IPアドレス")
    method = models.CharField("メソッド", max_length=10)
    operation = models.CharField("操作", max_length=40)
    number = models.CharField("保証契約番号", max_length=11, blank=True)
    status = models.PositiveSmallIntegerField("応答")

    class Meta:
        verbose_name = "API アクセス記録"
        verbose_name_plural = "API アクセス記録"
        indexes = [
            models.Index(fields=["token", "operation", "at"], name="apirequest_token_op_at"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.method} {self.operation} {self.status}"


class WebhookEndpoint(models.Model):
    """An office's HTTPS endpoint for events (Webhook 送信先). Its signing secret is derived,
    not stored (api.webhooks.secret_of: HMAC of the server's secret and `salt`): shown once at
    creation, and a database dump alone opens nothing. Disabled after failing for
    api.webhooks.DISABLE_AFTER (mail to the office); `failing_since` marks the first failure
    of the current run of failures."""

    office = models.ForeignKey(
        OrdererOffice,
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
        verbose_name="発注機関",
    )
    url = models.URLField("送信先URL", max_length=500)
    events = models.JSONField("イベント", default=list)
    salt = models.CharField("署名鍵の導出値", max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="作成者"
    )
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    failing_since = models.DateTimeField("失敗が続いている始まり", null=True, blank=True)
    disabled_at = models.DateTimeField("停止日時", null=True, blank=True)
    disabled_reason = models.CharField("停止の理由", max_length=200, blank=True)

    class Meta:
        verbose_name = "Webhook 送信先"
        verbose_name_plural = "Webhook 送信先"

    def __str__(self):
        return f"{self.office} → {self.url}"

    @property
    def active(self):
        return self.disabled_at is None


class WebhookEvent(models.Model):
    """One event for one office (`webhook-id` = `msg_id`, the same on every attempt and
    resend, so a receiver recognises duplicates). `source` makes collecting idempotent: the
    audit event it came from, or the expiry it announces."""

    msg_id = models.CharField("イベントID（webhook-id）", max_length=40)
    office = models.ForeignKey(
        OrdererOffice, on_delete=models.PROTECT, related_name="+", verbose_name="発注機関"
    )
    type = models.CharField("種類", max_length=40)
    payload = models.JSONField("内容")
    source = models.CharField("発生元", max_length=80)
    created_at = models.DateTimeField("発生日時", default=timezone.now)

    class Meta:
        verbose_name = "Webhook イベント"
        verbose_name_plural = "Webhook イベント"
        constraints = [
            models.UniqueConstraint(fields=["msg_id"], name="webhookevent_msg_id_unique"),
            models.UniqueConstraint(
                fields=["office", "type", "source"], name="webhookevent_once_per_source"
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.msg_id}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: sent by the task worker, retried with back-off until it
    succeeds or the endpoint is disabled. A resend is a new delivery of the same event."""

    class Status(models.TextChoices):
        PENDING = "pending", "送信中"
        SUCCEEDED = "succeeded", "成功"
        FAILED = "failed", "失敗（送信先を停止）"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries", verbose_name="送信先"
    )
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.PROTECT, related_name="deliveries", verbose_name="イベント"
    )
    status = models.CharField("状態", max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    next_attempt_at = models.DateTimeField("次の送信予定", null=True, blank=True)

    class Meta:
        verbose_name = "Webhook 送信"
        verbose_name_plural = "Webhook 送信"
        indexes = [models.Index(fields=["endpoint", "-created_at"], name="webhookdelivery_recent")]

    def __str__(self):
        return f"{self.event} → {self.endpoint}（{self.get_status_display()}）"


class WebhookAttempt(models.Model):
    """One attempt of a delivery: when, the response code (None: no answer), the error
    class, how long it took. Never the response body."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.PROTECT, related_name="attempts", verbose_name="送信"
    )
    number = models.PositiveSmallIntegerField("回")
    at = models.DateTimeField("日時", default=timezone.now)
    response_status = models.PositiveSmallIntegerField("応答コード", null=True, blank=True)
    error = models.CharField("エラー", max_length=200, blank=True)
    duration_ms = models.PositiveIntegerField("所要時間（ミリ秒）", default=0)

    class Meta:
        verbose_name = "Webhook 送信の試行"
        verbose_name_plural = "Webhook 送信の試行"
        ordering = ["delivery", "number"]

    def __str__(self):
        return f"{self.delivery} #{self.number} {self.response_status or self.error}"


class WebhookCursor(models.Model):
    """How far the audit chain has been read for events (one row, pk=1, locked while read)."""

    last_seq = models.BigIntegerField("読んだ監査証跡の連番", default=0)

    class Meta:
        verbose_name = "Webhook の読み取り位置"
        verbose_name_plural = "Webhook の読み取り位置"

    def __str__(self):
        return f"#{self.last_seq}"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` an office's system sent with a write (受領/返戻), and the first
    answer to it: a repeat with the same key and the same request gets that answer again
    without acting again; the same key with another request is refused. One per (office,
    key): the unique constraint is what makes two repeats arriving at once act once (the
    second waits on the first's insert, then reads its answer). Kept for
    ESURE_API_IDEMPOTENCY_HOURS (docs/decisions/0032)."""

    office = models.ForeignKey(
        OrdererOffice, on_delete=models.PROTECT, related_name="+", verbose_name="発注機関"
    )
    key = models.CharField("Idempotency-Key", max_length=255)
    token = models.ForeignKey(
        ApiToken, on_delete=models.PROTECT, related_name="+", verbose_name="APIトークン"
    )
    request_digest = models.CharField("リクエストの SHA-256", max_length=64)
    status = models.PositiveSmallIntegerField("応答", default=0)
    body = models.JSONField("応答の内容", default=dict)
    created_at = models.DateTimeField("日時", default=timezone.now)

    class Meta:
        verbose_name = "Idempotency-Key"
        verbose_name_plural = "Idempotency-Key"
        constraints = [
            models.UniqueConstraint(fields=["office", "key"], name="idempotencykey_once"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotencykey_created")]

    def __str__(self):
        return f"{self.office_id}:{self.key} → {self.status}"
