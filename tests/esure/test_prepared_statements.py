"""esure.queries.run_prepared (decision 0055): a statement that never changes is prepared once
per PostgreSQL connection, in the round trip of its first run, and only executed after that —
with the rows the plain statement gives, through failures, rollbacks and new connections, and
beside D-Sure's own prepared lookup statement."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from esure import queries
from esure.queries import run_prepared
from tests.conftest import make_applications_bulk

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's PREPARE (SQLite runs the SQL as is)"
)

NUMBER = "08100000018"  # a number nobody holds: D-Sure reads its state all the same
NUMBERS = "SELECT n, %s::text || '%%' FROM generate_series(1, %s) AS n ORDER BY n"


def sent(call):
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, [q["sql"] for q in captured.captured_queries]


def prepared_names():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_the_first_run_prepares_in_its_own_round_trip_and_the_next_only_execute():
    connection.close()  # a new connection, as a worker's first request has

    first, first_sent = sent(lambda: run_prepared(connection, NUMBERS, ["a", 3]))
    second, second_sent = sent(lambda: run_prepared(connection, NUMBERS, ["b", 2]))

    assert first == [(1, "a%"), (2, "a%"), (3, "a%")]  # %% is a literal % as in the plain SQL
    assert second == [(1, "b%"), (2, "b%")]  # the second run's own values
    assert len(first_sent) == len(second_sent) == 1
    name = first_sent[0].split("PREPARE ", 1)[1].split(" ", 1)[0]
    assert first_sent[0].startswith(f"PREPARE {name} AS SELECT n, $1::text || '%' FROM")
    assert f"EXECUTE {name}('a', 3)" in first_sent[0]
    assert second_sent == [f"EXECUTE {name}('b', 2)"]
    assert name in prepared_names()
    with connection.cursor() as cursor:
        cursor.execute(NUMBERS, ["a", 3])
        assert cursor.fetchall() == first


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again():
    connection.close()
    run_prepared(connection, NUMBERS, ["a", 1])
    connection.close()

    _, statements = sent(lambda: run_prepared(connection, NUMBERS, ["a", 1]))

    assert statements[0].startswith("PREPARE esure_prepared_")


@pytest.mark.django_db(transaction=True)
def test_a_run_that_failed_prepares_under_a_new_name_the_next_time():
    """A round trip that failed may have prepared its statement (PREPARE is not undone): the
    next run prepares under another name, never the same name twice."""
    connection.close()
    divide = "SELECT 10 / %s"

    with pytest.raises(DatabaseError, match="division by zero"):
        run_prepared(connection, divide, [0])
    _, statements = sent(lambda: run_prepared(connection, divide, [5]))
    assert run_prepared(connection, divide, [2]) == [(5,)]

    assert statements[0].startswith("PREPARE esure_prepared_") and "EXECUTE" in statements[0]
    first, again = sorted(n for n in prepared_names() if n.startswith("esure_prepared_"))[-2:]
    assert first != again


@pytest.mark.django_db(transaction=True)
def test_a_rollback_keeps_the_statements_and_d_sures_own():
    """psycopg's own prepared statements were dropped, every one of the connection's, on each
    ROLLBACK — D-Sure's lookup statement with them (its next lookup failed). These survive."""
    from dsure import throttle

    connection.close()
    run_prepared(connection, NUMBERS, ["a", 1])
    throttle.number_state(NUMBER)  # D-Sure prepares its lookup statement
    with pytest.raises(RuntimeError), transaction.atomic():
        run_prepared(connection, NUMBERS, ["a", 1])
        raise RuntimeError("rolled back")

    _, statements = sent(lambda: run_prepared(connection, NUMBERS, ["c", 1]))

    assert statements[0].startswith("EXECUTE esure_prepared_")
    assert throttle.number_state(NUMBER) is not None  # its statement still there


@pytest.mark.django_db(transaction=True)
def test_past_the_bound_a_connections_new_statements_run_unprepared(monkeypatch):
    connection.close()
    monkeypatch.setattr(queries, "PREPARED_PER_CONNECTION", 2)
    run_prepared(connection, "SELECT %s::int + 1", [1])
    run_prepared(connection, "SELECT %s::int + 2", [1])

    rows, statements = sent(lambda: run_prepared(connection, "SELECT %s::int + 3", [1]))
    _, known = sent(lambda: run_prepared(connection, "SELECT %s::int + 1", [1]))

    assert rows == [(4,)]
    assert statements == ["SELECT 1::int + 3"]
    assert known[0].startswith("EXECUTE esure_prepared_")


@pytest.mark.django_db(transaction=True)
def test_a_connection_replaced_by_the_health_check_prepares_on_the_new_one():
    """A request's first cursor may replace a broken connection (CONN_HEALTH_CHECKS): the
    statement is then prepared on the new one, not executed there by its old name."""
    connection.close()
    run_prepared(connection, NUMBERS, ["a", 1])
    broken = connection.connection
    broken.close()  # the server went away under it
    connection.health_check_done = False  # a new request

    rows, statements = sent(lambda: run_prepared(connection, NUMBERS, ["b", 2]))

    assert connection.connection is not broken
    assert rows == [(1, "b%"), (2, "b%")]
    assert statements[0].startswith("PREPARE esure_prepared_")


def plans_of(statement_part):
    """(generic, custom) plans PostgreSQL made so far for the prepared statement whose text
    holds `statement_part`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE name LIKE 'esure_prepared_%%' AND statement LIKE %s",
            [f"%{statement_part}%"],
        )
        [plans] = cursor.fetchall()
    return plans


@pytest.mark.django_db(transaction=True)
def test_menu_4s_first_page_runs_its_generic_plan_from_the_first_request(
    clerk_client, clerk, tsukumi
):
    """Decisions 0057 and 0060: the list's LIMIT in the text (and no OFFSET on its first
    page), and the plan made once for any values on every run — not five custom plans first,
    and not a custom plan on every request, as when PostgreSQL's estimate for the average
    company made the generic plan look dearer."""
    company = clerk.membership.company
    make_applications_bulk(company, 300, orderer=tsukumi, by=clerk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE applications_application")

    for _ in range(8):
        assert clerk_client.get("/applications/").status_code == 200

    assert plans_of('FROM "applications_application" WHERE') == (8, 0)


@pytest.mark.django_db(transaction=True)
def test_the_contractor_lists_page_runs_its_generic_plan_on_every_request(
    clerk_client, clerk, tsukumi
):
    """Decision 0060: with 500 guarantees, a custom plan costs the page's 20 rows as a
    twenty-fifth of the company's, the generic one as the average company's share: left to
    choose, PostgreSQL planned the bench's contractor list anew on every request."""
    from tests.certificates.test_contractor_certificates import bulk_guarantees

    bulk_guarantees(clerk.membership.company, 40, orderer=tsukumi, first_serial=1)

    for _ in range(8):
        assert clerk_client.get("/certificates/").status_code == 200

    assert plans_of('FROM "certificates_guarantee" WHERE') == (8, 0)


@pytest.mark.django_db(transaction=True)
def test_the_generic_plan_lasts_only_for_its_own_round_trip_in_autocommit():
    connection.close()
    rows, statements = sent(lambda: run_prepared(connection, NUMBERS, ["a", 2], generic=True))
    _, again = sent(lambda: run_prepared(connection, NUMBERS, ["b", 1], generic=True))

    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        [(mode,)] = cursor.fetchall()
    assert rows == [(1, "a%"), (2, "a%")]
    assert statements[0].startswith("PREPARE esure_prepared_")
    [executed] = again  # one round trip: the SET and the EXECUTE
    assert executed.startswith("SET LOCAL plan_cache_mode = force_generic_plan;\nEXECUTE ")
    assert mode == "auto"


@pytest.mark.django_db(transaction=True)
def test_without_generic_the_statement_is_left_to_postgresqls_choice():
    connection.close()
    _, statements = sent(lambda: run_prepared(connection, NUMBERS, ["a", 2]))
    _, again = sent(lambda: run_prepared(connection, NUMBERS, ["b", 1]))

    assert "plan_cache_mode" not in statements[0] + again[0]
    assert again[0].startswith("EXECUTE esure_prepared_")


@pytest.mark.django_db(transaction=True)
def test_a_list_page_is_sent_generic_and_the_users_load_is_not(clerk_client, clerk, tsukumi):
    from tests.certificates.test_contractor_certificates import bulk_guarantees

    bulk_guarantees(clerk.membership.company, 3, orderer=tsukumi, first_serial=1)
    clerk_client.get("/certificates/")  # both statements prepared on the connection

    _, statements = sent(lambda: clerk_client.get("/certificates/"))

    executed = [s for s in statements if "EXECUTE esure_prepared_" in s]
    assert len(executed) == 2  # the user's load, the list's page
    generic = [s for s in executed if s.startswith("SET LOCAL plan_cache_mode")]
    assert len(generic) == 1
    assert plans_of('FROM "accounts_user"') == (0, 2)  # left to PostgreSQL: 5 custom first
