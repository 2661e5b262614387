"""Throttling of D-Sure lookups (DESIGN.md §6), counted from the access log itself, so it
holds across processes, servers and restarts with no separate counter store.

Who is counted, and the numbers (product decisions: docs/decisions/0004-dsure.md and
0008-client-addresses-and-dsure-limits.md):
- per 保証契約番号 — existing or not, so a lock reveals nothing — every wrong key counts,
  whatever answer it got ("counted failures": FAILURE rows and REFUSED attempts), since the
  number's reset: its last success, its last staff clearance or the end of its last lock.
  At LOCK_AT the number locks (a NumberLock row, staff alerted at once) for
  settings.ESURE_DSURE_LOCK_HOURS: every attempt is refused, a right key too, until the lock
  ends by itself or staff clear it. That caps guessing at LOCK_AT keys per lock period.
- per (number, client): from DELAY_AFTER counted failures of this client on this number
  since the reset, each further attempt of this client must wait 2^(n − DELAY_AFTER) s after
  its previous failure (1 s, 2 s, 4 s … capped at MAX_DELAY). A stranger's failures delay
  the stranger, never the city. The client is its address (esure.clientip.counting_key,
  IPv6 per /64) — or the user, for an office user of the guarantee's orderer.
- office users of the guarantee's orderer (accounts.OfficeMembership) are never delayed or
  locked by others' failures: neither the lock nor the address limits apply to them, only
  their own per-(number, user) delay.
- per address: past IP_SOFT_LIMIT counted failures within IP_WINDOW, wrong keys are answered
  "wait" (and still counted against their number); right keys still open — cities share
  outbound addresses. Past IP_HARD_LIMIT every attempt is refused without checking its key
  and counted against its number in one row per (address, number) (AccessLog.attempts), not
  one row per attempt: a flood writes no unbounded rows.
- alerts: a lock (at once); one address failing on IP_ALERT_NUMBERS distinct numbers within
  IP_WINDOW, or SPIKE_FAILURES failures overall within IP_WINDOW; at most one alert per
  subject per ALERT_QUIET.

Every lookup takes a transaction-level advisory lock on its number first (`serialise`), so
reading the counts, checking the key and writing the row are one step per number: parallel
wrong keys can never pass the lock, and the lock alert comes from the count after the insert.
"""

import datetime
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import DateTimeField, F, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from dsure.models import AccessLog, Alert, LockClear, NumberLock

DELAY_AFTER = 10
LOCK_AT = 100
MAX_DELAY = datetime.timedelta(hours=1)
IP_WINDOW = datetime.timedelta(minutes=10)
IP_SOFT_LIMIT = 50
IP_HARD_LIMIT = 500  # ten times the soft limit: no city types that many wrong keys
IP_ALERT_NUMBERS = 20
SPIKE_FAILURES = 500
ALERT_QUIET = datetime.timedelta(hours=1)
# Staff's list of throttled numbers looks for candidates among this much recent history and
# shows at most this many besides the locks (every lock in force is listed, whatever its age).
THROTTLED_LOOKBACK = datetime.timedelta(days=30)
THROTTLED_LISTED = 200
_BEFORE_ANY = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)  # before any log row
# pg_advisory_xact_lock(class, object): the class keeps D-Sure's locks apart from any other
# advisory lock; two numbers that share an object id merely wait for each other.
_ADVISORY_CLASS = 0x44535552  # "DSUR"

Outcome = AccessLog.Outcome
COUNTED = (Outcome.FAILURE, Outcome.REFUSED)


def lock_period():
    return datetime.timedelta(hours=settings.ESURE_DSURE_LOCK_HOURS)


@dataclass(frozen=True)
class Delay:
    """One client's (or office user's) counted failures on a number since its reset."""

    failures: int
    last_failure_at: datetime.datetime | None

    def wait(self):
        """How long after the last failure the next attempt must wait (zero: none)."""
        if self.failures < DELAY_AFTER or self.last_failure_at is None:
            return datetime.timedelta(0)
        seconds = 2 ** min(self.failures - DELAY_AFTER, 20)
        return min(datetime.timedelta(seconds=seconds), MAX_DELAY)

    def refused_until(self):
        wait = self.wait()
        return self.last_failure_at + wait if wait else None

    def refuses(self, now):
        until = self.refused_until()
        return until is not None and now < until


@dataclass(frozen=True)
class NumberState:
    """A number as the whole world sees it: counted failures since its reset, the last one,
    and the end of its lock (None: not locked)."""

    failures: int
    last_failure_at: datetime.datetime | None
    locked_until: datetime.datetime | None = None

    @property
    def locked(self):
        return self.locked_until is not None


@dataclass(frozen=True)
class LookupState:
    """Everything one lookup decides on, read in one statement (`lookup_state`)."""

    number: NumberState
    by_address: Delay  # this address on this number
    by_user: Delay  # this office user on this number (zero without one)
    address_failures: int  # this address's counted failures within IP_WINDOW (≤ IP_HARD_LIMIT)
    reset_at: datetime.datetime | None
    guarantee_id: int | None
    key_version: int | None
    orderer_id: int | None
    key_salt: str = ""  # "": a guarantee from before salts (certificates.keys)


class Refusal:
    LOCKED = "locked"  # the number is locked: refused, not counted
    OVER_CEILING = "over_ceiling"  # the address is past IP_HARD_LIMIT: refused, counted
    WAIT = "wait"  # this client's delay: refused, not counted (the key was not checked)


def refusal(state, *, exempt, now):
    """Why this attempt is refused before its key is checked, or None. `exempt`: an office
    user of the guarantee's orderer, who only ever waits for their own failures."""
    if exempt:
        return Refusal.WAIT if state.by_user.refuses(now) else None
    if state.number.locked:
        return Refusal.LOCKED
    if state.address_failures >= IP_HARD_LIMIT:
        return Refusal.OVER_CEILING
    if state.by_address.refuses(now):
        return Refusal.WAIT
    return None


def over_soft_limit(state):
    """The address had IP_SOFT_LIMIT counted failures within IP_WINDOW before this attempt."""
    return state.address_failures >= IP_SOFT_LIMIT


def serialise(number):
    """Hold a transaction-level lock on this number until the caller's transaction ends
    (PostgreSQL; SQLite, the demo, serialises writers itself)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [_ADVISORY_CLASS, zlib.crc32(number.encode()) - 2**31],
            )


# The one round trip every lookup starts with (after `serialise`): the number's counted
# failures after its reset (the latest of its last success, its last clearance and the end of
# its last lock), this address's and this user's share of them, the lock in force, the
# address's recent counted failures (at most IP_HARD_LIMIT rows read), and the guarantee's id,
# key version and orderer joined in (NULL for a number that does not exist: the same
# statement either way). Plain SQL because the same reads through the ORM cost ~1 ms of
# Python per lookup (bench/README.md); portable to SQLite (make run).
_LOOKUP_STATE_SQL = """
WITH cleared AS (
    SELECT MAX(at) AS at FROM dsure_lockclear WHERE number = %(number)s
),
reset AS (
    SELECT MAX(at) AS at FROM (
        SELECT at FROM cleared
        UNION ALL
        SELECT MAX(at) FROM dsure_accesslog
        WHERE number = %(number)s AND outcome = %(success)s
        UNION ALL
        SELECT MAX(until) FROM dsure_numberlock
        WHERE number = %(number)s AND until <= %(now)s
    ) AS latest
),
counted AS (
    SELECT COALESCE(SUM(f.attempts), 0) AS n,
           MAX(f.at) AS last,
           COALESCE(SUM(CASE WHEN f.ip = %(ip)s THEN f.attempts END), 0) AS by_ip,
           MAX(CASE WHEN f.ip = %(ip)s THEN f.at END) AS by_ip_last,
           COALESCE(SUM(CASE WHEN f.office_user_id = %(user)s THEN f.attempts END), 0) AS by_user,
           MAX(CASE WHEN f.office_user_id = %(user)s THEN f.at END) AS by_user_last
    FROM dsure_accesslog AS f, reset
    WHERE f.number = %(number)s AND f.outcome IN (%(failure)s, %(refused)s)
      AND (reset.at IS NULL OR f.at > reset.at)
),
locked AS (
    SELECT MAX(held.until) AS until FROM dsure_numberlock AS held, cleared
    WHERE held.number = %(number)s AND held.until > %(now)s
      AND (cleared.at IS NULL OR held.at > cleared.at)
),
address AS (
    SELECT COALESCE(SUM(recent.attempts), 0) AS n FROM (
        SELECT attempts FROM dsure_accesslog
        WHERE ip = %(ip)s AND outcome IN (%(failure)s, %(refused)s) AND at > %(since)s
        LIMIT %(hard)s
    ) AS recent
)
SELECT counted.n, counted.last, counted.by_ip, counted.by_ip_last, counted.by_user,
       counted.by_user_last, locked.until, address.n, reset.at,
       guarantee.id, guarantee.key_version, guarantee.orderer_id, guarantee.key_salt
FROM counted, locked, address, reset
LEFT JOIN certificates_guarantee AS guarantee ON guarantee.number = %(number)s
"""


def _datetime(value):
    """A datetime as read back: SQLite hands back the stored text (naive UTC)."""
    if isinstance(value, str):
        return datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
    return value


def lookup_state(number, *, ip="0.0.0.0", user=None, now=None):  # noqa: S104 — a value
    """The LookupState of one attempt on `number` from `ip` (a counting key) by `user` (an
    office user, or None), in one statement."""
    now = now or timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "number": number,
        "ip": ip,
        "user": user.pk if user is not None else None,
        "now": adapt(now),
        "since": adapt(now - IP_WINDOW),
        "hard": IP_HARD_LIMIT,
        "success": Outcome.SUCCESS,
        "failure": Outcome.FAILURE,
        "refused": Outcome.REFUSED,
    }
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP_STATE_SQL, params)
        row = cursor.fetchone()
    (n, last, by_ip, by_ip_last, by_user, by_user_last, until, address, reset_at) = row[:9]
    guarantee_id, key_version, orderer_id, key_salt = row[9:]
    return LookupState(
        number=NumberState(int(n), _datetime(last), _datetime(until)),
        by_address=Delay(int(by_ip), _datetime(by_ip_last)),
        by_user=Delay(int(by_user), _datetime(by_user_last)),
        address_failures=int(address),
        reset_at=_datetime(reset_at),
        guarantee_id=guarantee_id,
        key_version=key_version,
        orderer_id=orderer_id,
        key_salt=key_salt or "",
    )


def number_state(number, now=None):
    """The throttle state of a number as the whole world sees it (one query)."""
    return lookup_state(number, now=now).number


def count_refused(*, number, ip, state, now):
    """An attempt refused past the address's hard ceiling counts against its number, in the
    address's one row for this number since the number's reset (`attempts` + 1), not in a
    row of its own. Runs under `serialise(number)`."""
    rows = AccessLog.objects.filter(number=number, ip=ip, outcome=Outcome.REFUSED)
    if state.reset_at is not None:
        rows = rows.filter(at__gt=state.reset_at)
    latest = rows.order_by("-at").values("pk")[:1]
    updated = AccessLog.objects.filter(pk__in=Subquery(latest)).update(
        attempts=F("attempts") + 1, at=now
    )
    if not updated:
        AccessLog.objects.create(at=now, ip=ip, number=number, outcome=Outcome.REFUSED)


def lock_if_due(*, number, state, now):
    """After a counted failure (under `serialise(number)`): lock the number and alert staff
    at once when the count after it reaches LOCK_AT and no lock is in force."""
    if state.number.locked or state.number.failures + 1 < LOCK_AT:
        return None
    lock = NumberLock.objects.create(number=number, at=now, until=now + lock_period())
    # Every lock is an alert of its own (no quiet period): staff may have to call the city.
    Alert.objects.create(
        kind=Alert.Kind.NUMBER_LOCKED,
        subject=number,
        detail=f"保証契約番号 {number} がロックされました（{LOCK_AT} 回の認証失敗、"
        f"{timezone.localtime(lock.until):%Y/%m/%d %H:%M} まで）",
        at=now,
    )
    return lock


# --- Staff's list ----------------------------------------------------------------------------


def _latest(queryset, field="at"):
    """The newest `field` of the rows for the outer row's number, or a time before any row."""
    newest = Subquery(
        queryset.filter(number=OuterRef("number")).order_by(f"-{field}").values(field)[:1]
    )
    return Coalesce(newest, Value(_BEFORE_ANY, output_field=DateTimeField()))


def locks_in_force(now=None):
    """{number: end of its lock} for every number locked now, whatever the age of its lock:
    NumberLock rows not yet ended and not cleared since they began."""
    now = now or timezone.now()
    locks = NumberLock.objects.filter(until__gt=now, at__gt=_latest(LockClear.objects.all()))
    return dict(locks.order_by("until").values_list("number", "until"))


def throttled_numbers(now=None):
    """Staff's list, [(number, NumberState)]: every number locked now, whatever the age of
    its lock, then the numbers with DELAY_AFTER or more counted failures since their reset
    (looked for among the failures of the last THROTTLED_LOOKBACK), most failures first.
    Three queries, however many numbers."""
    now = now or timezone.now()
    locked = locks_in_force(now)
    candidates = (
        AccessLog.objects.filter(outcome__in=COUNTED, at__gt=now - THROTTLED_LOOKBACK)
        .values("number")
        .annotate(n=Sum("attempts"))
        .filter(n__gte=DELAY_AFTER)
        .order_by("-n")
        .values_list("number", flat=True)[:THROTTLED_LISTED]
    )
    states = number_states([*locked, *candidates], now)
    for number, until in locked.items():  # a lock stays listed until it ends or is cleared
        state = states.get(number, NumberState(0, None))
        states[number] = NumberState(state.failures, state.last_failure_at, until)
    listed = [(n, s) for n, s in states.items() if s.locked or s.failures >= DELAY_AFTER]
    return sorted(listed, key=lambda row: (not row[1].locked, -row[1].failures, row[0]))


def number_states(numbers, now=None):
    """{number: NumberState} for many numbers in one query (staff's list): the rule of
    number_state, grouped by number. Numbers without a counted failure since their reset
    are left out."""
    now = now or timezone.now()
    cleared = _latest(LockClear.objects.all())
    reset = Greatest(
        cleared,
        _latest(AccessLog.objects.filter(outcome=Outcome.SUCCESS)),
        _latest(NumberLock.objects.filter(until__lte=now), "until"),
    )
    locked_until = Subquery(
        NumberLock.objects.filter(number=OuterRef("number"), until__gt=now, at__gt=cleared)
        .order_by("-until")
        .values("until")[:1]
    )
    rows = (
        AccessLog.objects.filter(number__in=list(numbers), outcome__in=COUNTED)
        .filter(at__gt=reset)
        .values("number")
        .annotate(n=Sum("attempts"), last=Max("at"), until=locked_until)
    )
    return {
        row["number"]: NumberState(row["n"], row["last"], row["until"]) for row in rows
    }


# --- Alerts ----------------------------------------------------------------------------------


def _at_least(queryset, threshold):
    """min(rows, threshold): counting stops at the threshold, so an address that fails
    thousands of times a minute costs the same index scan as one at the limit."""
    return queryset[:threshold].count()


def raise_alerts(ip, now=None):
    """After a failure: alert staff on one address trying many numbers, or a spike overall."""
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


def _alert(kind, subject, detail, now=None):
    now = now or timezone.now()
    recent = Alert.objects.filter(kind=kind, subject=subject, at__gt=now - ALERT_QUIET)
    if not recent.exists():
        Alert.objects.create(kind=kind, subject=subject, detail=detail, at=now)


# --- 電子証書の検証 (the check page): a plain rate limit per client ---------------------------
# Checking a PDF costs CPU (signature and path validation, up to verification.TIME_LIMIT);
# it guards no secret, so a fixed window in the shared cache is enough: CHECK_LIMIT checks per
# client (esure.clientip.client_key: address, IPv6 per /64) per CHECK_WINDOW. Cities share
# outbound addresses; no office checks sixty files in ten minutes by hand.
CHECK_LIMIT = 60
CHECK_WINDOW = datetime.timedelta(minutes=10)


def check_allowed(client, now=None):
    """Count one check of `client`; False once it is over CHECK_LIMIT in this window."""
    now = now or timezone.now()
    seconds = int(CHECK_WINDOW.total_seconds())
    window = int(now.timestamp()) // seconds
    key = f"dsure-check:{client}:{window}"
    cache.add(key, 0, timeout=seconds * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds * 2)
        count = 1
    return count <= CHECK_LIMIT
