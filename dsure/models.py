"""D-Sure: the orderer's viewer. Its access log is also the throttle's memory (DESIGN.md §6):
counting from it spans processes and restarts, with no separate counter store."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from certificates.models import Guarantee


class AccessLog(models.Model):
    """One lookup of number + key (never the key): when, from where (the client's counting
    key, esure.clientip: an IPv4 address or an IPv6 /64), which number, outcome.

    One INSERT per lookup, except past an address's hard ceiling (REFUSED: one row per
    address and number, `attempts` counting). Indexed by (number, at) for the per-number
    throttle and by (ip, at) for the per-address limits and alerts.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", "成功"
        FAILURE = "failure", "不一致"
        THROTTLED = "throttled", "待機中のため拒否"
        LOCKED = "locked", "ロック中のため拒否"
        # An office user opened what was submitted to their office (no key): not a success
        # of the key, so it resets no throttle.
        HANDOVER_VIEW = "handover_view", "電子提出から閲覧"
        # Past the address's hard ceiling: refused without checking the key, and counted
        # against the number — `attempts` of them in this one row (dsure.throttle).
        REFUSED = "refused", "上限超過のため拒否"

    at = models.DateTimeField("日時", default=timezone.now)
    ip = models.GenericIPAddressField("IPアドレス")
    number = models.CharField("保証契約番号", max_length=11)
    outcome = models.CharField("結果", max_length=20, choices=Outcome.choices)
    # 1, except for REFUSED rows: one row per (address, number) counts every refused attempt
    # since the number's reset, `at` being the latest.
    attempts = models.PositiveIntegerField("回数", default=1)
    guarantee = models.ForeignKey(
        Guarantee,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="保証契約",
    )
    office_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="発注機関の利用者",
    )

    class Meta:
        verbose_name = "D-Sure アクセス記録"
        verbose_name_plural = "D-Sure アクセス記録"
        indexes = [
            models.Index(fields=["number", "at"], name="accesslog_number_at"),
            models.Index(fields=["ip", "at"], name="accesslog_ip_at"),
            models.Index(
                fields=["guarantee", "at"],
                name="accesslog_success_guarantee",
                condition=models.Q(outcome="success"),
            ),
            models.Index(
                fields=["at"], name="accesslog_failure_at", condition=models.Q(outcome="failure")
            ),
            # The per-address limits and alert read an address's recent counted attempts
            # only: without this, an address that keeps trying walks its thousands of recent
            # refused ("throttled") rows on every attempt (bench/README.md). accesslog_ip_at
            # stays for staff searching the log by address.
            models.Index(
                fields=["ip", "at"],
                name="accesslog_ip_counted_at",
                condition=models.Q(outcome__in=["failure", "refused"]),
            ),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.ip} {self.number} {self.outcome}"


class LockClear(models.Model):
    """Surety staff cleared the throttle of a number (after checking with the orderer)."""

    number = models.CharField("保証契約番号", max_length=11)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="解除者"
    )
    at = models.DateTimeField("日時", default=timezone.now)
    note = models.TextField("メモ", blank=True)

    class Meta:
        verbose_name = "ロック解除"
        verbose_name_plural = "ロック解除"
        indexes = [models.Index(fields=["number", "at"], name="lockclear_number_at")]

    def __str__(self):
        return f"{self.number} {self.at:%Y-%m-%d %H:%M}"


class NumberLock(models.Model):
    """A number reached the cap of counted failures (dsure.throttle.LOCK_AT): every attempt
    on it is refused, a right key too, until `until` (ESURE_DSURE_LOCK_HOURS later) or until
    staff clear it (a LockClear after `at`)."""

    number = models.CharField("保証契約番号", max_length=11)
    at = models.DateTimeField("ロック日時", default=timezone.now)
    until = models.DateTimeField("自動解除日時")

    class Meta:
        verbose_name = "ロック"
        verbose_name_plural = "ロック"
        indexes = [
            models.Index(fields=["number", "until"], name="numberlock_number_until"),
            models.Index(fields=["until"], name="numberlock_until"),
        ]

    def __str__(self):
        return f"{self.number} {self.at:%Y-%m-%d %H:%M}〜{self.until:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """A failure pattern staff should look at: one IP trying many numbers, or a spike."""

    class Kind(models.TextChoices):
        IP_MANY_NUMBERS = "ip_many_numbers", "1つのIPから多数の番号"
        FAILURE_SPIKE = "failure_spike", "失敗の急増"
        NUMBER_LOCKED = "number_locked", "番号のロック"

    kind = models.CharField("種類", max_length=30, choices=Kind.choices)
    subject = models.CharField("対象", max_length=64)
    detail = models.TextField("内容")
    at = models.DateTimeField("日時", default=timezone.now)
    acknowledged_at = models.DateTimeField("確認日時", null=True, blank=True)

    class Meta:
        verbose_name = "D-Sure 警告"
        verbose_name_plural = "D-Sure 警告"
        indexes = [models.Index(fields=["kind", "subject", "at"], name="alert_kind_subject")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.subject}"
