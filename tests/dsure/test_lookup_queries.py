"""The D-Sure lookup's database work (bench/README.md): a fixed, small number of statements,
the same for a number with a year of access log behind it as for a new one."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from certificates import services as registry
from dsure import services
from dsure.models import AccessLog, LockClear
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
def test_a_right_key_from_a_new_visitor_is_three_statements(guarantee, staff, history):
    """The number's advisory lock, the throttle state with the address's recent failures and
    the guarantee joined in (one query), the log INSERT. The grant is a signed cookie
    (decision 0028): no session."""
    add_history(guarantee, history, staff)
    key = registry.current_key(guarantee)

    with CaptureQueriesContext(connection) as queries:
        response = dsure_lookup(Client(), guarantee.number_display, key)

    assert response.status_code == 302
    sent = statements(queries)
    assert len(sent) == 3, sent
    assert [s.split()[0] for s in sent] == ["SELECT", "WITH", "INSERT"]
    assert "pg_advisory_xact_lock" in sent[0]
    assert 'INTO "dsure_accesslog"' in sent[2]


@pytest.mark.parametrize("history", [0, 2_000])
def test_a_wrong_key_is_the_same_statements_whatever_the_history(guarantee, staff, history):
    """The number's advisory lock, the throttle state (with the address's recent failures),
    the log INSERT, and the two alert counts (one IP on many numbers; a spike overall)."""
    add_history(guarantee, history, staff)

    with CaptureQueriesContext(connection) as queries:
        response = dsure_lookup(Client(), guarantee.number_display, WRONG_KEY)

    assert services.MSG_NO_MATCH in response.content.decode()
    sent = statements(queries)
    assert len(sent) == 5, sent
    assert sum(s.startswith("INSERT") for s in sent) == 1


def test_the_throttle_state_is_read_in_one_query(guarantee):
    with CaptureQueriesContext(connection) as queries:
        services.throttle.number_state(guarantee.number)
    assert len(queries) == 1
