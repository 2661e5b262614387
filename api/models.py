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
        permissions = [
            # The orderer's 管理者 (docs/decisions/0024): staff grant it to office users.
            ("manage_office_tokens", "自分の発注機関のAPIトークンを管理できる（発注機関の管理者）"),
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
