"""Turns at the 保証契約番号 counters (decision 0053): which serial a conclusion will most
likely get, known before it locks the counter, so that it renders and seals its 保証証書 while
another conclusion holds the counter.

A conclusion's transaction draws a ticket (the sequence certificates_turn_ticket) and, in the
same statement, announces it at each (年度, kind) counter it will draw from, as a
transaction-level advisory lock: visible to every other session at once, released by PostgreSQL
when the transaction ends however it ends (commit, rollback, a dead connection). The
conclusions announced before it that are still open take the next serials in ticket order, so
its serial is the committed one plus one plus those (`Turn.serial`). Before it locks the
counter it waits for them to end (`Turn.wait`), which keeps the order the guess assumed; a
conclusion only ever waits for lower tickets, so the waits cannot form a cycle, and one that
holds a counter row waits for no ticket.

The guess is never trusted: allocate_number still locks the row and counts on, and a conclusion
whose number differs (one ahead rolled back, a number taken without a turn) renders and seals
again under the lock, as every conclusion did before. On SQLite (`make run`) there are no
tickets: the guess is the committed serial plus one.
"""

from dataclasses import dataclass, field

from django.db import connection

from certificates.models import NumberCounter

# pg_advisory_xact_lock(class, object): the class names the counter (年度 × 10 + kind digit
# above this base, apart from D-Sure's "DSUR" class), the object is the ticket.
_CLASS_BASE = 0x4E554D00  # "NUM\0"
# The ticket drawn and announced at every counter in one statement: a conclusion that reads
# the announcements after it sees every lower ticket (but one drawn within the same instant).
_TAKE = """SELECT t.ticket FROM (SELECT nextval('certificates_turn_ticket')::int AS ticket) AS t
CROSS JOIN LATERAL (SELECT pg_advisory_xact_lock(c, t.ticket) FROM unnest(%s::int[]) AS c) AS a"""


def _class(fiscal_year, digit):
    return _CLASS_BASE + fiscal_year * 10 + digit


_AHEAD = """SELECT classid::bigint, objid::bigint FROM pg_locks
WHERE locktype = 'advisory' AND objsubid = 2 AND mode = 'ExclusiveLock' AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND pid <> pg_backend_pid() AND classid::bigint = ANY(%s) AND objid::bigint < %s"""
# (Advisory locks belong to a database: another database's conclusions, on the same server,
# are not ahead. Announcements are exclusive; a wait ends holding a shared lock on the ticket
# it waited for, which is not an open conclusion.)


@dataclass
class Turn:
    """One conclusion's place at its counters: {(年度, kind digit): tickets still open ahead}."""

    ticket: int | None = None
    ahead: dict = field(default_factory=dict)
    committed: dict = field(default_factory=dict)

    def serial(self, fiscal_year, digit):
        """The serial this conclusion will most likely draw from the counter."""
        slot = (fiscal_year, digit)
        return self.committed.get(slot, 0) + 1 + len(self.ahead.get(slot, ()))

    def wait(self):
        """Wait until every conclusion ahead at these counters has ended (committed or not)."""
        tickets = sorted({(_class(*slot), t) for slot, ts in self.ahead.items() for t in ts})
        if not tickets:
            return
        with connection.cursor() as cursor:
            for lock_class, ticket in tickets:
                cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", [lock_class, ticket])


def _committed(slots):
    rows = NumberCounter.objects.filter(
        fiscal_year__in={y for y, _ in slots}, kind_digit__in={d for _, d in slots}
    ).values_list("fiscal_year", "kind_digit", "last_serial")
    return {(y, d): serial for y, d, serial in rows if (y, d) in slots}


def take(slots):
    """Announce this transaction at the counters of `slots` ((年度, kind digit) pairs) and
    read its place: a Turn. Must run inside the conclusion's transaction, before it renders."""
    slots = sorted(set(slots))
    if connection.vendor != "postgresql":
        return Turn(committed=_committed(slots))
    classes = [_class(*slot) for slot in slots]
    with connection.cursor() as cursor:
        cursor.execute(_TAKE, [classes])
        ticket = cursor.fetchone()[0]
        # The committed serials and the open tickets are read at two moments: read the serials
        # again and start over if a conclusion ahead committed in between (it would be counted
        # twice or not at all).
        committed = _committed(slots)
        while True:
            cursor.execute(_AHEAD, [classes, ticket])
            rows = cursor.fetchall()
            again = _committed(slots)
            if again == committed:
                break
            committed = again
    by_class = dict(zip(classes, slots, strict=True))
    ahead = {}
    for lock_class, other in rows:
        ahead.setdefault(by_class[lock_class], []).append(other)
    return Turn(ticket=ticket, ahead=ahead, committed=committed)
