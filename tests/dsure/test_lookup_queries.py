"""The D-Sure lookup's database work (bench/README.md, decision 0036): a fixed, small number of
round trips, the same for a number with a year of access log behind it as for a new one — in
production (autocommit) two: "BEGIN; the number's lock; the state" and "the log row; COMMIT"."""

import datetime

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from certificates import keys
from certificates import services as registry
from dsure import services, throttle
from dsure.models import AccessLog, Alert, LockClear, NumberLock
from tests.conftest import NOW, dsure_lookup

WRONG_KEY = "ABCD-EFGH-JKMN-PQRS"


def statements(queries):
    """The statements sent, savepoints aside (a test runs inside a transaction; production
    runs the same statements in autocommit)."""
    return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]


def add_history(guarantee, rows, staff):
    """A busy year of lookups of this number and others: successes, old failures, a clear."""
    AccessLog.objects.bulk_create(
        AccessLog(
            at=NOW - datetime.timedelta(days=1 + i % 300, minutes=i),
            ip=f"10.0.{i % 200}.{i % 250}",
            number=guarantee.number if i % 2 else f"0810000{i:03d}0"[:11],
            outcome=AccessLog.Outcome.SUCCESS if i % 5 else AccessLog.Outcome.FAILURE,
            guarantee=guarantee if i % 2 else None,
        )
        for i in range(rows)
    )
    LockClear.objects.create(
        number=guarantee.number, at=NOW - datetime.timedelta(days=400), by=staff
    )


@pytest.mark.parametrize("history", [0, 2_000])
def test_a_right_key_from_a_new_visitor_is_two_statements(guarantee, staff, history):
    """The number's advisory lock with the throttle state (the address's recent failures and
    the guarantee joined in) in one round trip, the log INSERT in the other. The grant is a
    signed cookie (decision 0028): no session."""
    add_history(guarantee, history, staff)
    key = registry.current_key(guarantee)

    with CaptureQueriesContext(connection) as queries:
        response = dsure_lookup(Client(), guarantee.number_display, key)

    assert response.status_code == 302
    sent = statements(queries)
    assert len(sent) == 2, sent
    assert [s.split()[0] for s in sent] == ["SELECT", "INSERT"]
    assert "pg_advisory_xact_lock" in sent[0] and "EXECUTE dsure_lookup_state_" in sent[0]
    assert 'INTO "dsure_accesslog"' in sent[1]


@pytest.mark.parametrize("history", [0, 2_000])
def test_a_wrong_key_is_the_same_statements_whatever_the_history(guarantee, staff, history):
    """The number's lock with the throttle state, the log INSERT, and the two alert counts
    (one IP on many numbers; a spike overall) in one statement."""
    add_history(guarantee, history, staff)

    with CaptureQueriesContext(connection) as queries:
        response = dsure_lookup(Client(), guarantee.number_display, WRONG_KEY)

    assert services.MSG_NO_MATCH in response.content.decode()
    sent = statements(queries)
    assert len(sent) == 3, sent
    assert sum(s.startswith("INSERT") for s in sent) == 1


def test_during_a_failure_spike_a_wrong_key_is_still_three_statements(guarantee):
    """Whether the spike's alert was raised within the quiet period is read with the counts:
    once it is, further failures add no statement."""
    AccessLog.objects.bulk_create(
        AccessLog(
            at=NOW, ip=f"198.51.100.{i % 200}", number=f"0810000{i:03d}0"[:11], outcome="failure"
        )
        for i in range(throttle.SPIKE_FAILURES)
    )
    dsure_lookup(Client(), guarantee.number_display, WRONG_KEY)  # raises the spike's alert
    assert Alert.objects.filter(kind=Alert.Kind.FAILURE_SPIKE).count() == 1

    with CaptureQueriesContext(connection) as queries:
        response = dsure_lookup(Client(), guarantee.number_display, WRONG_KEY)

    assert services.MSG_NO_MATCH in response.content.decode()
    assert len(statements(queries)) == 3, statements(queries)
    assert Alert.objects.filter(kind=Alert.Kind.FAILURE_SPIKE).count() == 1


# --- In production: autocommit, two round trips (decision 0036) ---------------------------


def round_trips(call):
    """(what `call` returned, the SQL strings it sent): in autocommit every round trip is
    one `execute` (no BEGIN or COMMIT of psycopg's own), and the connection is left idle."""
    assert connection.get_autocommit()
    with CaptureQueriesContext(connection) as queries:
        result = call()
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    return result, [q["sql"] for q in queries]


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_right_key_is_two_round_trips(guarantee, staff):
    add_history(guarantee, 2_000, staff)
    key = registry.current_key(guarantee)

    response, sent = round_trips(lambda: dsure_lookup(Client(), guarantee.number_display, key))

    assert response.status_code == 302
    assert len(sent) == 2, sent
    assert sent[0].startswith("BEGIN;\nSELECT pg_advisory_xact_lock(")
    assert "EXECUTE dsure_lookup_state_" in sent[0]
    assert sent[1].startswith('INSERT INTO "dsure_accesslog"') and sent[1].endswith(";\nCOMMIT")
    assert AccessLog.objects.filter(number=guarantee.number, outcome="success", at=NOW).exists()


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_wrong_key_is_two_round_trips_with_the_alert_counts(guarantee):
    response, sent = round_trips(
        lambda: dsure_lookup(Client(), guarantee.number_display, WRONG_KEY)
    )

    assert services.MSG_NO_MATCH in response.content.decode()
    assert len(sent) == 2, sent
    assert sent[0].startswith("BEGIN;")
    insert, commit, counts = sent[1].split(";\n")
    assert insert.startswith('INSERT INTO "dsure_accesslog"') and commit == "COMMIT"
    assert "SELECT DISTINCT number" in counts
    assert AccessLog.objects.get(number=guarantee.number).outcome == "failure"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("before", [0, 1])
def test_in_autocommit_past_the_hard_ceiling_is_two_round_trips(guarantee, before):
    """The address's refused row for the number is inserted (before=0) or counted up in one
    statement, sent with the COMMIT: the key is not checked."""
    ip = "203.0.113.9"
    AccessLog.objects.bulk_create(
        AccessLog(at=NOW, ip=ip, number=f"0810000{i:03d}0"[:11], outcome="failure")
        for i in range(throttle.IP_HARD_LIMIT)
    )
    if before:
        AccessLog.objects.create(at=NOW, ip=ip, number=guarantee.number, outcome="refused")

    response, sent = round_trips(
        lambda: dsure_lookup(Client(), guarantee.number_display, WRONG_KEY, REMOTE_ADDR=ip)
    )

    assert services.MSG_WAIT in response.content.decode()
    assert len(sent) == 2, sent
    # Committed without waiting for the WAL's fsync (decision 0048), for this transaction only.
    assert sent[1].startswith("SET LOCAL synchronous_commit TO OFF;\n\nWITH counted AS (")
    assert sent[1].endswith(";\nCOMMIT")
    [row] = AccessLog.objects.filter(number=guarantee.number, ip=ip)
    assert (row.outcome, row.attempts) == ("refused", 1 + before)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("counted", [throttle.LOCK_AT - 2, throttle.LOCK_AT - 1])
def test_past_the_hard_ceiling_a_count_that_locks_the_number_is_committed_durably(
    guarantee, counted
):
    """Just under LOCK_AT the flood's count is committed without the fsync; the count that
    locks the number (LOCK_AT reached) is committed as every other row is, the lock with it."""
    ip = "203.0.113.9"
    AccessLog.objects.bulk_create(
        AccessLog(at=NOW, ip=ip, number=f"0810000{i:03d}0"[:11], outcome="failure")
        for i in range(throttle.IP_HARD_LIMIT)
    )
    AccessLog.objects.create(
        at=NOW, ip="198.51.100.1", number=guarantee.number, outcome="failure", attempts=counted
    )

    response, sent = round_trips(
        lambda: dsure_lookup(Client(), guarantee.number_display, WRONG_KEY, REMOTE_ADDR=ip)
    )

    assert services.MSG_WAIT in response.content.decode()
    locks = NumberLock.objects.filter(number=guarantee.number).count()
    if counted + 1 < throttle.LOCK_AT:
        assert locks == 0
        assert sent[-1].startswith("SET LOCAL synchronous_commit TO OFF;")
    else:
        assert locks == 1
        assert not any("synchronous_commit" in sql for sql in sent), sent


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_an_error_between_the_round_trips_rolls_back(guarantee, monkeypatch):
    """Nothing is logged, and the connection is idle again: the number's lock is released
    and the next lookup on the same connection starts its own transaction."""

    def broken(*args, **kwargs):
        raise RuntimeError("broken")

    monkeypatch.setattr(keys, "verify_key", broken)
    with pytest.raises(RuntimeError):
        round_trips(
            lambda: services.find_guarantee(
                typed_number=guarantee.number, typed_key=WRONG_KEY, ip="192.0.2.1"
            )
        )
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert not AccessLog.objects.exists()
    monkeypatch.undo()

    found, sent = round_trips(
        lambda: services.find_guarantee(
            typed_number=guarantee.number, typed_key=WRONG_KEY, ip="192.0.2.1"
        )
    )
    assert found.result is services.Result.NO_MATCH
    assert len(sent) == 2
    assert AccessLog.objects.filter(number=guarantee.number).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_state_statement_is_prepared_in_the_first_round_trip_of_a_connection(guarantee):
    """PREPARE goes out with a connection's first lookup, not in a round trip of its own; the
    next lookups only EXECUTE it (with a generic plan: no planning per lookup)."""
    connection.close()  # a new connection, as a worker's first request has

    first = round_trips(lambda: dsure_lookup(Client(), guarantee.number_display, WRONG_KEY))[1]
    second = round_trips(lambda: dsure_lookup(Client(), guarantee.number_display, WRONG_KEY))[1]

    assert len(first) == len(second) == 2
    assert "PREPARE dsure_lookup_state_" in first[0] and "WITH cleared" in first[0]
    assert "PREPARE" not in second[0] and "WITH cleared" not in second[0]
    name = first[0].split("PREPARE ", 1)[1].split("(", 1)[0]
    assert f"EXECUTE {name}(" in first[0] and f"EXECUTE {name}(" in second[0]
    assert "SET LOCAL plan_cache_mode = force_generic_plan" in second[0]


@pytest.mark.django_db(transaction=True)
def test_a_round_trip_that_failed_after_preparing_names_the_statement_afresh(
    guarantee, monkeypatch
):
    """The PREPARE of a failed round trip may have run (a statement is not undone by the
    rollback): the next lookup prepares under another name rather than the same one twice."""
    connection.close()
    real = throttle.Serialised._fetch_last

    def fails_after(sql, params):
        real(sql, params)
        raise RuntimeError("the lock wait was cancelled")

    monkeypatch.setattr(throttle.Serialised, "_fetch_last", staticmethod(fails_after))
    with pytest.raises(RuntimeError):
        services.find_guarantee(typed_number=guarantee.number, typed_key=WRONG_KEY, ip="192.0.2.1")
    monkeypatch.undo()

    found, sent = round_trips(
        lambda: services.find_guarantee(
            typed_number=guarantee.number, typed_key=WRONG_KEY, ip="192.0.2.1"
        )
    )
    assert found.result is services.Result.NO_MATCH
    assert "PREPARE dsure_lookup_state_" in sent[0]
    assert AccessLog.objects.filter(number=guarantee.number).count() == 1


def test_the_prepared_statement_reads_what_the_statement_itself_reads(guarantee, official):
    """The generic plan of the prepared state, against the same SQL planned for its values:
    a number with failures since its reset, an address past its soft limit with a refused
    row, an office user's own failures, a lock in force."""
    ip = "203.0.113.7"
    AccessLog.objects.bulk_create(
        [
            *(
                AccessLog(
                    at=NOW - datetime.timedelta(minutes=1),
                    ip=ip,
                    number=f"0810000{i:03d}0"[:11],
                    outcome="failure",
                )
                for i in range(throttle.IP_SOFT_LIMIT)
            ),
            AccessLog(
                at=NOW - datetime.timedelta(days=3),
                ip=ip,
                number=guarantee.number,
                outcome="success",
            ),
            AccessLog(
                at=NOW - datetime.timedelta(days=2),
                ip=ip,
                number=guarantee.number,
                outcome="failure",
            ),
            AccessLog(
                at=NOW - datetime.timedelta(seconds=30),
                ip=ip,
                number=guarantee.number,
                outcome="refused",
                attempts=7,
            ),
            AccessLog(
                at=NOW - datetime.timedelta(seconds=20),
                ip="198.51.100.1",
                number=guarantee.number,
                outcome="failure",
                office_user=official,
            ),
        ]
    )
    NumberLock.objects.create(
        number=guarantee.number, at=NOW, until=NOW + datetime.timedelta(hours=1)
    )

    prepared = throttle.lookup_state(guarantee.number, ip=ip, user=official, now=NOW)
    sql, params = throttle._lookup_state_query(guarantee.number, ip=ip, user=official, now=NOW)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        planned = throttle._lookup_state_from(cursor.fetchone())

    assert prepared == planned
    assert prepared.number.failures == 9 and prepared.number.locked
    assert (prepared.by_address.failures, prepared.by_user.failures) == (8, 1)
    assert prepared.address_failures == throttle.IP_SOFT_LIMIT + 7
    assert prepared.guarantee_id == guarantee.pk


def test_the_throttle_state_is_read_in_one_query(guarantee):
    with CaptureQueriesContext(connection) as queries:
        services.throttle.number_state(guarantee.number)
    assert len(queries) == 1
