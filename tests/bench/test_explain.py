"""bench/explain.py explains every read of a benched page, including the lookup's round trip
of several statements with the state statement prepared on the connection (decision 0036,
dsure/throttle.py): its second PREPARE would fail, so the EXECUTE is what gets explained."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.explain import explained


def test_the_lookups_round_trips_are_explained_without_preparing_twice(db):
    with CaptureQueriesContext(connection) as queries:
        response = Client().post("/dsure/", {"number": "08-1-0000001-8", "key": "Z" * 16})
    assert response.status_code == 200
    trips = [q["sql"] for q in queries.captured_queries]
    prepared = [sql for sql in trips if "EXECUTE dsure_lookup_state" in sql]
    assert prepared, trips
    plans = [plan for sql in trips for plan in explained(connection, sql)]
    state_plans = [p for p in explained(connection, prepared[0]) if "Nested Loop" in p]
    assert state_plans and "Execution Time" in state_plans[0]
    assert all("Execution Time" in plan for plan in plans)
