"""Recording business events in the audit chain, and verifying the chain.

`record(...)` runs inside the caller's transaction: the event commits or rolls back with the
business change it describes. Appending locks the head row (AuditHead, pk=1) until that
transaction ends, so the chain stays linear under parallel transactions; record near the
end of a transaction (or inside `deferred()`) so the lock is held briefly and taken last.

Never put a secret in `data`: no 認証キー, no password, no session key.
"""

import contextlib
import contextvars
import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditEvent, AuditHead

HEAD_PK = 1
SYSTEM = "system"

_held = contextvars.ContextVar("esure_audit_held", default=None)


def actor_of(actor):
    """(actor_id, label) for a user (its pk and e-mail), a plain label, or None (system)."""
    if actor is None:
        return None, SYSTEM
    if isinstance(actor, str):
        return None, actor
    if not getattr(actor, "is_authenticated", False):
        return None, "anonymous"
    return actor.pk, getattr(actor, "email", "") or str(actor)


def record(*, actor, action, obj=None, object_type="", object_id="", data=None):
    """Append one event: `actor` a user, a label ("d-sure") or None ("system"); the object
    a model instance (`obj`) or a type and id; `data` small plain JSON — never a secret,
    and no floats (PostgreSQL may print them back differently: use ints or strings).

    Inside `deferred()` the event is written when that block ends; otherwise now, in the
    caller's transaction (or a transaction of its own).
    """
    actor_id, label = actor_of(actor)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    # What is hashed must be what is read back: plain JSON, as the database returns it.
    plain = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder), parse_float=_no_float)
    pending = {
        "actor_id": actor_id,
        "actor": label[:254],
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "data": plain,
    }
    held = _held.get()
    if held is not None:
        held.append(pending)
        return None
    return _append([pending])[0]


def _no_float(text):
    raise TypeError(f"audit data must not contain floats ({text}): use an int or a string")


@contextlib.contextmanager
def deferred():
    """Hold the events recorded in the block and append them when it ends, in order.

    For transactions that take other row locks after an event (a conclusion of several
    guarantees, an approval that issues a change): the head is then locked last and
    briefly, so it can neither deadlock with nor wait on PDF rendering. Use it inside the
    transaction: `with transaction.atomic(), audit.deferred():`. If the block raises,
    its events are dropped with the transaction. Nested blocks join the outer one.
    """
    if _held.get() is not None:
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("audit.deferred() must run inside transaction.atomic()")
    held = []
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
    if held:
        _append(held)


def _locked_head():
    head = AuditHead.objects.select_for_update().filter(pk=HEAD_PK).first()
    if head is not None:
        return head
    # The first event ever (or after a test flush): create the head; a parallel first
    # writer may have created it a moment ago, then this one does nothing and waits.
    AuditHead.objects.bulk_create(
        [AuditHead(pk=HEAD_PK, last_seq=0, last_hash=GENESIS_HASH)], ignore_conflicts=True
    )
    head = AuditHead.objects.select_for_update().get(pk=HEAD_PK)
    if head.last_seq == 0 and AuditEvent.objects.exists():
        # The head was deleted: never start a second chain beside the first.
        raise RuntimeError("the audit head row is missing while events exist")
    return head


def _append(pending):
    # No savepoint of its own: a failure here fails the caller's transaction, as it must.
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        events = []
        for values in pending:
            event = AuditEvent(
                seq=head.last_seq + 1, at=timezone.now(), prev_hash=head.last_hash, **values
            )
            event.hash = event.compute_hash()
            events.append(event)
            head.last_seq, head.last_hash = event.seq, event.hash
        AuditEvent.objects.bulk_create(events)
        head.save(update_fields=["last_seq", "last_hash"])
    return events


# --- Verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    ok: bool
    count: int
    first_broken_seq: int | None = None
    reason: str = ""
    last_hash: str = GENESIS_HASH


def verify_chain(chunk_size=2000):
    """Walk the events in seq order: recompute each hash, check the link to the previous
    event and that seq runs 1..n without a gap, then that the head names the last event.

    Returns a Verification; `first_broken_seq` is the first seq where the chain breaks.
    On PostgreSQL, outside a caller's transaction, it reads one snapshot (REPEATABLE READ)
    so events appended meanwhile do not look like tampering.
    """
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _walk(chunk_size)


def _walk(chunk_size):
    head = AuditHead.objects.filter(pk=HEAD_PK).first()
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    events = AuditEvent.objects.order_by("seq").iterator(chunk_size=chunk_size)
    for event in events:
        if event.seq != expected_seq:
            return _broken(
                count,
                expected_seq,
                f"event {expected_seq} is missing (the next stored event is {event.seq})",
            )
        if event.prev_hash != prev_hash:
            return _broken(
                count, event.seq, f"prev_hash does not match the hash of event {event.seq - 1}"
            )
        if event.compute_hash() != event.hash:
            return _broken(count, event.seq, "its content does not match its hash (altered)")
        prev_hash, count, expected_seq = event.hash, count + 1, event.seq + 1
    if head is None:
        if count:
            return _broken(count, count, "the head row is missing")
        return Verification(ok=True, count=0)
    if head.last_seq > count:
        return _broken(
            count,
            count + 1,
            f"events {count + 1}..{head.last_seq} are missing (the head records {head.last_seq})",
        )
    if head.last_seq < count:
        return _broken(
            count,
            head.last_seq + 1,
            f"the chain goes beyond the head (head records {head.last_seq}, found {count})",
        )
    if head.last_hash != prev_hash:
        return _broken(count, count, "the head's hash does not match the last event")
    return Verification(ok=True, count=count, last_hash=prev_hash)


def _broken(count, seq, reason):
    return Verification(ok=False, count=count, first_broken_seq=seq, reason=reason)
