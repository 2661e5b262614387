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
import itertools
import re
import weakref
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import DateTimeField, F, Max, OuterRef, Subquery, Sum, Value
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
    (PostgreSQL; SQLite, the demo, serialises writers itself). The lookup takes it in the
    round trip of its state read (`Serialised`)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_SQL, _lock_params(number))


# The one round trip every lookup starts with (after `serialise`): the number's counted
# failures after its reset (the latest of its last success, its last clearance and the end of
# its last lock), this address's and this user's share of them, the lock in force, the
# address's recent counted failures (at most IP_HARD_LIMIT rows read), and the guarantee's id,
# key version and orderer joined in (NULL for a number that does not exist: the same
# statement either way). Plain SQL because the same reads through the ORM cost ~1 ms of
# Python per lookup (bench/README.md); portable to SQLite (make run).
# - The number's counted rows are read from its reset on (`at > reset` in the index scan),
#   not all its rows filtered afterwards: at 10,000,000 log rows that is ~10 of the ~26
#   buffers a lookup touched (its old successes, each on a page of its own).
# - The address's rows newest first: each count of a refused row (`count_refused`) leaves
#   the row's older version behind in the (ip, at) index, and read oldest first, an address
#   refused for more than IP_WINDOW walked every such version of the window before its
#   first live row (9.6 ms, 172 buffers, measured); newest first they are the live ones.
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
    FROM dsure_accesslog AS f
    WHERE f.number = %(number)s AND f.outcome IN (%(failure)s, %(refused)s)
      AND f.at > COALESCE((SELECT at FROM reset), %(before_any)s)
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
        ORDER BY at DESC LIMIT %(hard)s
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


def _lookup_state_query(number, *, ip, user, now):
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "number": number,
        "ip": ip,
        "user": user.pk if user is not None else None,
        "now": adapt(now),
        "since": adapt(now - IP_WINDOW),
        "hard": IP_HARD_LIMIT,
        "before_any": adapt(_BEFORE_ANY),
        "success": Outcome.SUCCESS,
        "failure": Outcome.FAILURE,
        "refused": Outcome.REFUSED,
    }
    return _LOOKUP_STATE_SQL, params


def _lookup_state_from(row):
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


# On PostgreSQL the state statement is prepared once per connection (its PREPARE goes out in
# the round trip of the connection's first lookup: no round trip of its own) and executed
# with a generic plan. Planned afresh on every lookup, its five CTEs cost the server ~1.0–1.3 ms
# of CPU each time, more than the execution; executed prepared, 0.39 ms in all (bench/README.md,
# "Issue 22 — the wrong key at full volume"). The outcomes and the time before any row are
# literals in the prepared text, so the generic plan still uses the partial indexes
# (accesslog_ip_counted_at). A statement is named afresh for each connection and whenever a
# round trip that prepared it failed: a name is never prepared twice on one connection.
_STATE_ARGUMENTS = (
    ("number", "varchar"),
    ("ip", "inet"),
    ("user", "bigint"),
    ("now", "timestamptz"),
    ("since", "timestamptz"),
    ("hard", "integer"),
)


def _prepared_text():
    sql = _LOOKUP_STATE_SQL
    for i, (name, _) in enumerate(_STATE_ARGUMENTS, start=1):
        sql = sql.replace(f"%({name})s", f"${i}")
    literals = {
        "success": Outcome.SUCCESS,
        "failure": Outcome.FAILURE,
        "refused": Outcome.REFUSED,
        "before_any": _BEFORE_ANY.isoformat(),
    }
    for name, value in literals.items():
        sql = sql.replace(f"%({name})s", f"'{value}'")
    if "%(" in sql:
        raise ImproperlyConfigured(f"a parameter of the state statement is left: {sql}")
    return sql


_PREPARED_STATE_SQL = _prepared_text()
_EXECUTE_STATE_SQL = "SET LOCAL plan_cache_mode = force_generic_plan;\nEXECUTE {name}({arguments})"
_prepared = weakref.WeakKeyDictionary()  # psycopg connection → the name of its statement
_statement_names = itertools.count(1)


class _StateStatement:
    """The state read as sent: (sql, params), and `done()` once its round trip succeeded."""

    def __init__(self, number, *, ip, user, now):
        self.sql, self.params = _lookup_state_query(number, ip=ip, user=user, now=now)
        self._raw = self._name = None
        if connection.vendor != "postgresql":
            return
        connection.ensure_connection()
        self._raw = connection.connection
        name = _prepared.get(self._raw)
        prepare = ""
        if name is None:
            name = self._name = f"dsure_lookup_state_{next(_statement_names)}"
            types = ", ".join(t for _, t in _STATE_ARGUMENTS)
            prepare = f"PREPARE {name}({types}) AS {_PREPARED_STATE_SQL};\n"
        arguments = ", ".join(f"%({n})s" for n, _ in _STATE_ARGUMENTS)
        self.sql = prepare + _EXECUTE_STATE_SQL.format(name=name, arguments=arguments)

    def done(self):
        if self._name is not None:
            _prepared[self._raw] = self._name


def lookup_state(number, *, ip="0.0.0.0", user=None, now=None):  # noqa: S104 — a value
    """The LookupState of one attempt on `number` from `ip` (a counting key) by `user` (an
    office user, or None), in one statement."""
    statement = _StateStatement(number, ip=ip, user=user, now=now or timezone.now())
    row = Serialised._fetch_last(statement.sql, statement.params)
    statement.done()
    return _lookup_state_from(row)


def number_state(number, now=None):
    """The throttle state of a number as the whole world sees it (one query)."""
    return lookup_state(number, now=now).number


_INSERT_LOG_SQL = (
    'INSERT INTO "dsure_accesslog" (at, ip, number, outcome, attempts, guarantee_id, '
    "office_user_id) VALUES (%(at)s, %(ip)s, %(number)s, %(outcome)s, 1, %(guarantee)s, "
    "%(user)s)"
)


def log_query(*, number, ip, outcome, now, guarantee_id=None, user=None):
    """The INSERT of one attempt's log row (one row per attempt; never the key)."""
    return _INSERT_LOG_SQL, {
        "at": connection.ops.adapt_datetimefield_value(now),
        "ip": ip,
        "number": number,
        "outcome": outcome,
        "guarantee": guarantee_id,
        "user": user.pk if user is not None else None,
    }


# Past the address's hard ceiling: the address's one REFUSED row for this number since the
# number's reset gets one more attempt, or is inserted — one statement (PostgreSQL), run under
# the number's lock, so no two requests can both insert.
_COUNT_REFUSED_SQL = """
WITH counted AS (
    UPDATE dsure_accesslog SET attempts = attempts + 1, at = %(at)s
    WHERE id = (
        SELECT id FROM dsure_accesslog
        WHERE number = %(number)s AND ip = %(ip)s AND outcome = %(refused)s {after_reset}
        ORDER BY at DESC LIMIT 1
    )
    RETURNING id
)
INSERT INTO dsure_accesslog (at, ip, number, outcome, attempts)
SELECT %(at)s::timestamptz, %(ip)s::inet, %(number)s, %(refused)s, 1
WHERE NOT EXISTS (SELECT 1 FROM counted)
"""


# An address past its hard ceiling is a flood: each of its attempts is refused unchecked and
# only counted up against its number. That count is committed without waiting for the WAL's
# fsync (decision 0048) — a PostgreSQL crash may lose the last fraction of a second of such
# counts, never a row of any other kind, and never a number's lock (sent only when no lock is
# due); the flood no longer costs the server an fsync per request.
ASYNC_COMMIT_SQL = "SET LOCAL synchronous_commit TO OFF"


def count_refused_query(*, number, ip, state, now):
    """`count_refused` as one statement for PostgreSQL (sql, params)."""
    after_reset = "AND at > %(reset)s" if state.reset_at is not None else ""
    return _COUNT_REFUSED_SQL.format(after_reset=after_reset), {
        "at": now,
        "number": number,
        "ip": ip,
        "refused": Outcome.REFUSED,
        **({"reset": state.reset_at} if state.reset_at is not None else {}),
    }


def count_refused(*, number, ip, state, now):
    """An attempt refused past the address's hard ceiling counts against its number, in the
    address's one row for this number since the number's reset (`attempts` + 1), not in a
    row of its own. Runs under `serialise(number)`."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(*count_refused_query(number=number, ip=ip, state=state, now=now))
        return
    rows = AccessLog.objects.filter(number=number, ip=ip, outcome=Outcome.REFUSED)
    if state.reset_at is not None:
        rows = rows.filter(at__gt=state.reset_at)
    latest = rows.order_by("-at").values("pk")[:1]
    updated = AccessLog.objects.filter(pk__in=Subquery(latest)).update(
        attempts=F("attempts") + 1, at=now
    )
    if not updated:
        AccessLog.objects.create(at=now, ip=ip, number=number, outcome=Outcome.REFUSED)


def lock_due(state):
    """The count after this counted failure reaches LOCK_AT and no lock is in force."""
    return not state.number.locked and state.number.failures + 1 >= LOCK_AT


def lock_if_due(*, number, state, now):
    """After a counted failure (under `serialise(number)`): lock the number and alert staff
    at once when the count after it reaches LOCK_AT and no lock is in force."""
    if not lock_due(state):
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


# --- The lookup's transaction ----------------------------------------------------------------
# Decision 0036. On PostgreSQL in autocommit (every request: no ATOMIC_REQUESTS), a lookup is
# two round trips, as the floor's: "BEGIN; lock; state" and "last write; COMMIT". Sent as
# multi-statement strings through psycopg's client-side binding (Django's default cursor:
# the simple query protocol, parameters quoted by psycopg, never by us). READ COMMITTED
# takes a snapshot per statement, also within one string, so the state statement reads what
# every earlier holder of the number's lock committed. Inside a caller's transaction (a
# test, a management command) the same statements run in a savepoint, without BEGIN and
# COMMIT; SQLite (the demo) serialises writers itself and takes the same path.
_LOCK_SQL = "SELECT pg_advisory_xact_lock(%(lock_class)s, %(lock_object)s)"


def _lock_params(number):
    return {"lock_class": _ADVISORY_CLASS, "lock_object": zlib.crc32(number.encode()) - 2**31}


class Serialised:
    """`with Serialised(number) as tx:` the lookup's transaction on one number: `tx.state(…)`
    takes the number's lock and reads its LookupState, `tx.write(sql, params)` queues a write
    that goes out with the next statement or with the COMMIT, `tx.after(sql, params)` a read
    sent after the COMMIT in the same round trip (its row: `tx.after_row`). An exception rolls
    the whole transaction back."""

    def __init__(self, number):
        self.number = number
        self.direct = False
        self.after_row = None
        self._pending = []
        self._after = None
        self._atomic = None

    def __enter__(self):
        self.direct = connection.vendor == "postgresql" and connection.get_autocommit()
        if not self.direct:
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
        return self

    def state(self, *, ip, user=None, now):
        statement = _StateStatement(self.number, ip=ip, user=user, now=now)
        if connection.vendor != "postgresql":
            return _lookup_state_from(self._fetch_last(statement.sql, statement.params))
        lock = f"{_LOCK_SQL};\n"
        begin = "BEGIN;\n" if self.direct else ""
        row = self._fetch_last(
            begin + lock + statement.sql, {**statement.params, **_lock_params(self.number)}
        )
        statement.done()
        return _lookup_state_from(row)

    def write(self, sql, params):
        self._pending.append((sql, params))

    def flush(self):
        """Send the queued writes now (before a write through the ORM)."""
        for sql, params in self._pending:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
        self._pending = []

    def after(self, sql, params):
        self._after = (sql, params)

    def __exit__(self, kind, error, traceback):
        if not self.direct:
            try:
                if kind is None:
                    self.flush()
            finally:
                done = self._atomic.__exit__(kind, error, traceback)
            if kind is None and self._after is not None:
                self.after_row = self._fetch_last(*self._after)
            return done
        if kind is not None:
            self._rollback()
            return False
        statements, params = [], {}
        for i, (sql, values) in enumerate(self._pending):
            statements.append(_numbered(sql, i))
            params.update({f"{name}_{i}": value for name, value in values.items()})
        statements.append("COMMIT")
        if self._after is not None:
            statements.append(_numbered(self._after[0], "a"))
            params.update({f"{name}_a": value for name, value in self._after[1].items()})
        try:
            row = self._fetch_last(";\n".join(statements), params)
        except BaseException:
            self._rollback()
            raise
        if self._after is not None:
            self.after_row = row
        return False

    def _rollback(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")
        except Exception:  # noqa: S110 — a broken connection: the server has rolled back
            pass

    @staticmethod
    def _fetch_last(sql, params):
        """Run `sql` (one or more statements) and return the first row of its last result."""
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            raw = cursor.cursor
            if hasattr(raw, "nextset"):
                while raw.nextset():
                    pass
            return raw.fetchone() if raw.description else None


def _numbered(sql, suffix):
    """`sql` with each %(name)s renamed %(name_suffix)s: statements sent together share one
    parameter dictionary."""
    return re.sub(r"%\((\w+)\)s", lambda m: f"%({m.group(1)}_{suffix})s", sql)


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
    return {row["number"]: NumberState(row["n"], row["last"], row["until"]) for row in rows}


# --- Alerts ----------------------------------------------------------------------------------


# After a failure, both alert counts in one statement, with whether each alert was raised
# within ALERT_QUIET; each count stops at its threshold, so an address that fails thousands
# of times a minute costs the same index scan as one at it.
_ALERT_COUNTS_SQL = """
SELECT (SELECT COUNT(*) FROM (
            SELECT DISTINCT number FROM dsure_accesslog
            WHERE ip = %(ip)s AND outcome = %(failure)s AND at > %(since)s LIMIT %(numbers)s
        ) AS numbers),
       (SELECT COUNT(*) FROM (
            SELECT 1 FROM dsure_accesslog
            WHERE outcome = %(failure)s AND at > %(since)s LIMIT %(spike)s
        ) AS failures),
       EXISTS (SELECT 1 FROM dsure_alert
               WHERE kind = %(many_kind)s AND subject = %(ip)s AND at > %(quiet)s),
       EXISTS (SELECT 1 FROM dsure_alert
               WHERE kind = %(spike_kind)s AND subject = %(all)s AND at > %(quiet)s)
"""


_ALL = "all"  # the subject of a spike alert


def alert_counts_query(ip, now):
    return _ALERT_COUNTS_SQL, {
        "ip": ip,
        "failure": Outcome.FAILURE,
        "since": connection.ops.adapt_datetimefield_value(now - IP_WINDOW),
        "numbers": IP_ALERT_NUMBERS,
        "spike": SPIKE_FAILURES,
        "many_kind": Alert.Kind.IP_MANY_NUMBERS,
        "spike_kind": Alert.Kind.FAILURE_SPIKE,
        "all": _ALL,
        "quiet": connection.ops.adapt_datetimefield_value(now - ALERT_QUIET),
    }


def raise_alerts(ip, now=None, counts=None):
    """After a failure: alert staff on one address trying many numbers, or a spike overall.
    `counts`: the row of `alert_counts_query`, when the caller read it already."""
    now = now or timezone.now()
    if counts is None:
        with connection.cursor() as cursor:
            cursor.execute(*alert_counts_query(ip, now))
            counts = cursor.fetchone()
    numbers, failures, many_raised, spike_raised = counts
    if numbers >= IP_ALERT_NUMBERS and not many_raised:
        _alert(
            Alert.Kind.IP_MANY_NUMBERS,
            ip,
            f"{ip} から {IP_WINDOW.seconds // 60} 分間に {IP_ALERT_NUMBERS} 件以上の番号で"
            "認証に失敗",
            now,
        )
    if failures >= SPIKE_FAILURES and not spike_raised:
        _alert(
            Alert.Kind.FAILURE_SPIKE,
            _ALL,
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
