"""The audit chain (decision 0006): each event stores the SHA-256 of its canonical content
and the previous event's hash; seq runs 1..n without a gap, even when many transactions
record at once, because appending locks the one head row."""

import datetime
import hashlib
import json

import pytest
import time_machine
from django.db import connection, transaction

from audit import services as audit
from audit.models import GENESIS_HASH, AuditEvent, AuditHead
from tests.conftest import at_once, make_staff

FROZEN = datetime.datetime(2026, 11, 30, 10, 0, 0, 123456, tzinfo=datetime.UTC)


def expected_hash(row, at_text):
    """The hash as an independent verifier computes it from the documented format."""
    content = {
        "seq": row.seq,
        "at": at_text,
        "actor_id": row.actor_id,
        "actor": row.actor,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "data": row.data,
        "prev_hash": row.prev_hash,
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_the_first_event_hashes_its_canonical_content_after_64_zeros(db):
    staff = make_staff(email="hash@surety.example.jp")
    with time_machine.travel(FROZEN, tick=False):
        audit.record(
            actor=staff,
            action="key.reissued",
            object_type="certificates.guarantee",
            object_id=7,
            data={"number": "06100000019", "reason": "お知らせの誤送信", "key_version": 2},
        )

    row = AuditEvent.objects.get()
    assert row.seq == 1
    assert row.prev_hash == GENESIS_HASH == "0" * 64
    assert (row.actor_id, row.actor) == (staff.pk, "hash@surety.example.jp")
    assert row.object_id == "7"
    assert row.hash == expected_hash(row, "2026-11-30T10:00:00.123456+00:00")
    assert row.hash == row.compute_hash()


def test_each_event_links_to_the_previous_one_and_the_head_follows(db):
    for n in range(3):
        audit.record(actor=None, action="staff.login", data={"n": n})

    rows = list(AuditEvent.objects.order_by("seq"))
    assert [r.seq for r in rows] == [1, 2, 3]
    assert [r.prev_hash for r in rows] == [GENESIS_HASH, rows[0].hash, rows[1].hash]
    assert len({r.hash for r in rows}) == 3
    head = AuditHead.objects.get()
    assert (head.last_seq, head.last_hash) == (3, rows[2].hash)
    result = audit.verify_chain()
    assert (result.ok, result.count, result.last_hash) == (True, 3, rows[2].hash)


def test_an_empty_trail_verifies(db):
    assert audit.verify_chain() == audit.Verification(ok=True, count=0)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [(None, (None, "system")), ("d-sure", (None, "d-sure"))],
)
def test_the_actor_label_without_a_user(db, actor, expected):
    event = audit.record(actor=actor, action="dsure.lock_cleared")
    assert (event.actor_id, event.actor) == expected


def test_data_is_stored_as_plain_json_and_verifies_as_read_back(db):
    # A date, a Japanese text, a nested list: hashed exactly as the database returns them.
    audit.record(
        actor=None,
        action="guarantee.changed",
        data={
            "on": datetime.date(2026, 11, 30),
            "note": "工期延長（令和8年）",
            "changes": [[1, 2]],
        },
    )

    row = AuditEvent.objects.get()
    assert row.data == {"on": "2026-11-30", "note": "工期延長（令和8年）", "changes": [[1, 2]]}
    assert row.hash == row.compute_hash()
    assert audit.verify_chain().ok


def test_an_event_rolls_back_with_its_transaction(db):
    audit.record(actor=None, action="staff.login")
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(actor=None, action="staff.login")
        raise RuntimeError("the business change failed")

    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1]
    assert AuditHead.objects.get().last_seq == 1
    audit.record(actor=None, action="staff.login")
    assert audit.verify_chain().count == 2


def test_deferred_events_are_appended_in_order_when_the_block_ends(db):
    with transaction.atomic():
        with audit.deferred():
            assert audit.record(actor=None, action="guarantee.concluded") is None
            with audit.deferred():  # nested: joins the outer block
                audit.record(actor=None, action="application.concluded")
            assert not AuditEvent.objects.exists()
        assert list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)) == [
            "guarantee.concluded",
            "application.concluded",
        ]
    assert audit.verify_chain().ok


def test_deferred_events_are_dropped_when_the_block_raises(db):
    with pytest.raises(RuntimeError), transaction.atomic(), audit.deferred():
        audit.record(actor=None, action="guarantee.concluded")
        raise RuntimeError("a PDF did not render")

    assert not AuditEvent.objects.exists()


def test_deferred_must_run_inside_a_transaction(transactional_db):
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"), audit.deferred():
        pass


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real parallel transactions")
@pytest.mark.django_db(transaction=True)
def test_parallel_transactions_make_one_gapless_chain():
    def recorder(n):
        def call():
            with transaction.atomic():
                return audit.record(actor=None, action="staff.login", data={"thread": n}).seq

        return call

    # The first round also races to create the head row (the flush emptied it).
    first = at_once(*(recorder(n) for n in range(10)))
    second = at_once(*(recorder(n) for n in range(10, 20)))

    assert all(status == "ok" for status, _ in first + second), first + second
    assert sorted(seq for _, seq in first) == list(range(1, 11))
    assert sorted(seq for _, seq in second) == list(range(11, 21))
    assert sorted(AuditEvent.objects.values_list("data__thread", flat=True)) == list(range(20))
    result = audit.verify_chain()
    assert (result.ok, result.count) == (True, 20)


def test_floats_are_refused_in_data(db):
    # 1e16 comes back from jsonb as 10000000000000000: the hash would no longer match.
    with pytest.raises(TypeError, match="floats"):
        audit.record(actor=None, action="guarantee.changed", data={"rate": 1e16})
    assert not AuditEvent.objects.exists()
