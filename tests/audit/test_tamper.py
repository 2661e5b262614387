"""Tampering with the audit trail (decision 0006). PostgreSQL refuses UPDATE, DELETE and
TRUNCATE of events by trigger, whatever code tries; someone who can switch the trigger off
(the table owner) can change rows, and `manage.py verify_audit` then names the first broken
seq and exits with status 1."""

import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit import services as audit
from audit.models import AuditEvent, AuditHead

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only"
)
EVENTS = "audit_auditevent"
APPEND_ONLY = "audit_auditevent_append_only"


@pytest.fixture
def chain(db):
    """Five events, as the services write them."""
    for n in range(1, 6):
        audit.record(actor=None, action="staff.login", data={"n": n})
    assert audit.verify_chain().ok
    return list(AuditEvent.objects.order_by("seq"))


def sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def as_table_owner(statement, params=None, *, table=EVENTS, trigger=APPEND_ONLY):
    """What the table owner can do: switch the trigger off, change rows, switch it on."""
    sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    sql(statement, params)
    sql(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


def verify_audit():
    """(exit status, stdout, stderr) of `manage.py verify_audit`."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_verify_audit_reports_an_intact_chain_and_exits_0(chain):
    status, out, err = verify_audit()

    assert status == 0
    assert out.strip() == f"audit chain OK: 5 events, last hash {chain[-1].hash[:16]}…"
    assert err == ""


@on_postgresql
def test_verify_audit_detects_a_row_altered_by_sql(chain):
    as_table_owner("UPDATE audit_auditevent SET data = %s WHERE seq = 3", ['{"n": 33}'])

    result = audit.verify_chain()
    assert (result.ok, result.first_broken_seq) == (False, 3)
    assert "altered" in result.reason
    status, out, err = verify_audit()
    assert status == 1
    assert out == ""
    assert err.startswith("audit chain BROKEN at seq 3: ")


@on_postgresql
def test_a_row_altered_with_a_recomputed_hash_breaks_the_next_link(chain):
    forged = chain[2]
    forged.data = {"n": 33}
    as_table_owner(
        "UPDATE audit_auditevent SET data = %s, hash = %s WHERE seq = 3",
        ['{"n": 33}', forged.compute_hash()],
    )

    result = audit.verify_chain()
    assert (result.ok, result.first_broken_seq) == (False, 4)
    assert "prev_hash" in result.reason


@on_postgresql
def test_a_deleted_middle_row_is_reported_missing(chain):
    as_table_owner("DELETE FROM audit_auditevent WHERE seq = 3")

    result = audit.verify_chain()
    assert (result.ok, result.first_broken_seq) == (False, 3)
    assert "event 3 is missing" in result.reason
    assert verify_audit()[0] == 1


@on_postgresql
def test_a_deleted_tail_row_is_found_by_the_head(chain):
    as_table_owner("DELETE FROM audit_auditevent WHERE seq = 5")

    result = audit.verify_chain()
    assert (result.ok, result.first_broken_seq) == (False, 5)
    assert "head" in result.reason
    assert verify_audit()[2].startswith("audit chain BROKEN at seq 5: ")


@on_postgresql
def test_a_deleted_head_is_reported(chain):
    as_table_owner(
        "DELETE FROM audit_audithead",
        table="audit_audithead",
        trigger="audit_audithead_forward_only",
    )

    result = audit.verify_chain()
    assert not result.ok
    assert "head row is missing" in result.reason
    # …and the app refuses to start a second chain beside the first.
    with pytest.raises(RuntimeError, match="head row is missing"):
        audit.record(actor=None, action="staff.login")


@on_postgresql
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET data = '{}' WHERE seq = 3",
        "UPDATE audit_auditevent SET actor = 'someone-else'",
        "DELETE FROM audit_auditevent WHERE seq = 3",
        "DELETE FROM audit_auditevent",
    ],
)
def test_sql_update_and_delete_are_refused(chain, statement):
    with pytest.raises(DatabaseError, match="audit events are append-only"), transaction.atomic():
        sql(statement)

    assert audit.verify_chain().ok


@on_postgresql
def test_truncate_is_refused(chain):
    # The test database switches this trigger off for Django's flush (tests/conftest.py):
    # switched on, as in every real database, it refuses.
    with pytest.raises(DatabaseError, match="audit events are append-only"), transaction.atomic():
        sql(f"ALTER TABLE {EVENTS} ENABLE TRIGGER audit_auditevent_no_truncate")
        sql("TRUNCATE audit_auditevent")

    assert AuditEvent.objects.count() == 5


@on_postgresql
@pytest.mark.parametrize(
    "statement",
    ["DELETE FROM audit_audithead", "UPDATE audit_audithead SET last_seq = 2"],
)
def test_the_head_can_neither_be_deleted_nor_rewound(chain, statement):
    with pytest.raises(DatabaseError, match="audit head only moves forward"), transaction.atomic():
        sql(statement)

    assert AuditHead.objects.get().last_seq == 5


def test_the_orm_refuses_to_save_or_delete_an_existing_event(chain):
    event = AuditEvent.objects.get(seq=3)
    event.data = {"n": 33}

    with pytest.raises(ValueError, match="immutable"):
        event.save()
    with pytest.raises(ValueError, match="never deleted"):
        event.delete()
    assert audit.verify_chain().ok


@on_postgresql
def test_orm_bulk_update_and_delete_are_refused_by_the_database(chain):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=3).update(actor="someone-else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=3).delete()

    assert audit.verify_chain().ok
