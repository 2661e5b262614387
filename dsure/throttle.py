"""Throttling of D-Sure lookups (DESIGN.md §6), counted from the access log itself, so it
holds across processes, servers and restarts with no separate counter store.

Numbers (each a product decision recorded in docs/decisions/0004-dsure.md):
- per 保証契約番号 — existing or not, so a lock reveals nothing — consecutive failures
  since the last success or staff clearance: from DELAY_AFTER on, each further attempt
  must wait 2^(n − DELAY_AFTER) seconds after the previous failure (1 s, 2 s, 4 s … capped
  at MAX_DELAY); at LOCK_AT the number is locked until staff clear it (a right key is
  refused too).
- per IP a soft limit: IP_SOFT_LIMIT failures within IP_WINDOW make further *wrong* keys
  from that address wait; right keys still open (cities share outbound addresses).
- alerts: one IP failing on IP_ALERT_NUMBERS distinct numbers within IP_WINDOW, or
  SPIKE_FAILURES failures overall within IP_WINDOW; at most one alert per subject per
  ALERT_QUIET.
"""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, DateTimeField, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from dsure.models import AccessLog, Alert, LockClear

DELAY_AFTER = 10
LOCK_AT = 100
MAX_DELAY = datetime.timedelta(hours=1)
IP_WINDOW = datetime.timedelta(minutes=10)
IP_SOFT_LIMIT = 50
IP_ALERT_NUMBERS = 20
SPIKE_FAILURES = 500
ALERT_QUIET = datetime.timedelta(hours=1)
_BEFORE_ANY = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)  # before any log row

Outcome = AccessLog.Outcome


@dataclass(frozen=True)
class NumberState:
    failures: int  # consecutive, since the last success or clearance
    last_failure_at: datetime.datetime | None

    @property
    def locked(self):
        return self.failures >= LOCK_AT

    def wait(self):
        """How long after the last failure the next attempt must wait (zero: none)."""
        if self.failures < DELAY_AFTER or self.last_failure_at is None:
            return datetime.timedelta(0)
        seconds = 2 ** min(self.failures - DELAY_AFTER, 20)
        return min(datetime.timedelta(seconds=seconds), MAX_DELAY)

    def refused_until(self):
        wait = self.wait()
        return self.last_failure_at + wait if wait else None


# The one round trip every lookup starts with: the number's throttle state — failures after
# the later of its last success and its last staff clearance, each MAX an index scan on
# (number, at) — and, joined in, the guarantee's id and key version (None for a number that
# does not exist: the same statement either way). Plain SQL because the same reads through
# the ORM cost ~1 ms of Python per lookup (bench/README.md); portable to SQLite (make run).
_LOOKUP_STATE_SQL = """
WITH reset AS (
    SELECT MAX(at) AS at FROM (
        SELECT MAX(at) AS at FROM dsure_lockclear WHERE number = %(number)s
        UNION ALL
        SELECT MAX(at) FROM dsure_accesslog
        WHERE number = %(number)s AND outcome = %(success)s
    ) AS latest
),
failures AS (
    SELECT COUNT(*) AS n, MAX(failure.at) AS last
    FROM dsure_accesslog AS failure, reset
    WHERE failure.number = %(number)s AND failure.outcome = %(failure)s
      AND (reset.at IS NULL OR failure.at > reset.at)
)
SELECT failures.n, failures.last, guarantee.id, guarantee.key_version
FROM failures
LEFT JOIN certificates_guarantee AS guarantee ON guarantee.number = %(number)s
"""


def lookup_state(number):
    """(NumberState, guarantee id or None, key version or None) for a number, in one query."""
    params = {"number": number, "success": Outcome.SUCCESS, "failure": Outcome.FAILURE}
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP_STATE_SQL, params)
        failures, last, guarantee_id, key_version = cursor.fetchone()
    if isinstance(last, str):  # SQLite hands back the stored text (naive UTC)
        last = datetime.datetime.fromisoformat(last).replace(tzinfo=datetime.UTC)
    return NumberState(failures=failures, last_failure_at=last), guarantee_id, key_version


def number_state(number):
    """The throttle state of a number (one query)."""
    return lookup_state(number)[0]


def _latest(queryset):
    """The newest `at` of the rows for the outer row's number, or a time before any row."""
    newest = Subquery(queryset.filter(number=OuterRef("number")).order_by("-at").values("at")[:1])
    return Coalesce(newest, Value(_BEFORE_ANY, output_field=DateTimeField()))


def number_states(numbers):
    """{number: NumberState} for many numbers in one query (staff's list of throttled
    numbers): the rule of number_state, grouped by number. Numbers without a failure since
    their reset are left out."""
    reset = Greatest(
        _latest(LockClear.objects.all()),
        _latest(AccessLog.objects.filter(outcome=Outcome.SUCCESS)),
    )
    rows = (
        AccessLog.objects.filter(number__in=list(numbers), outcome=Outcome.FAILURE)
        .filter(at__gt=reset)
        .values("number")
        .annotate(n=Count("pk"), last=Max("at"))
    )
    return {
        row["number"]: NumberState(failures=row["n"], last_failure_at=row["last"]) for row in rows
    }


def _at_least(queryset, threshold):
    """min(rows, threshold): counting stops at the threshold, so an address that fails
    thousands of times a minute costs the same index scan as one at the limit."""
    return queryset[:threshold].count()


def ip_over_soft_limit(ip, now=None):
    now = now or timezone.now()
    recent = AccessLog.objects.filter(ip=ip, outcome=Outcome.FAILURE, at__gt=now - IP_WINDOW)
    return _at_least(recent, IP_SOFT_LIMIT) >= IP_SOFT_LIMIT


def raise_alerts(ip, now=None):
    """After a failure: alert staff on one IP trying many numbers, or a spike overall."""
    now = now or timezone.now()
    window = Q(outcome=Outcome.FAILURE, at__gt=now - IP_WINDOW)
    numbers = AccessLog.objects.filter(window, ip=ip).values("number").distinct()
    if _at_least(numbers, IP_ALERT_NUMBERS) >= IP_ALERT_NUMBERS:
        _alert(
            Alert.Kind.IP_MANY_NUMBERS,
            ip,
            f"{ip} から {IP_WINDOW.seconds // 60} 分間に {IP_ALERT_NUMBERS} 件以上の番号で"
            "認証に失敗",
            now,
        )
    if _at_least(AccessLog.objects.filter(window), SPIKE_FAILURES) >= SPIKE_FAILURES:
        _alert(
            Alert.Kind.FAILURE_SPIKE,
            "all",
            f"{IP_WINDOW.seconds // 60} 分間に {SPIKE_FAILURES} 件以上の認証失敗",
            now,
        )


def alert_locked(number, now=None):
    _alert(Alert.Kind.NUMBER_LOCKED, number, f"保証契約番号 {number} がロックされました", now)


def _alert(kind, subject, detail, now=None):
    now = now or timezone.now()
    recent = Alert.objects.filter(kind=kind, subject=subject, at__gt=now - ALERT_QUIET)
    if not recent.exists():
        Alert.objects.create(kind=kind, subject=subject, detail=detail, at=now)
