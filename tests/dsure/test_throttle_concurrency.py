"""Parallel wrong keys cannot pass the lock (dsure.throttle.serialise): each lookup reads the
counts, checks the key and logs the attempt under a transaction-level lock on its number, so
at 98 failures of 100 exactly two more keys are checked, the number locks once and staff get
the lock's alert — found in review: 16 parallel requests evaluated 12 and raised no alert.

Real transactions on PostgreSQL in threads (tests.conftest.at_once)."""

import pytest
from django.db import connection

from certificates.numbering import make_number
from dsure import services, throttle
from dsure.models import AccessLog, Alert, NumberLock
from esure.choices import GuaranteeKind
from tests.conftest import NOW, at_once

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real parallel transactions"),
    pytest.mark.django_db(transaction=True),
]

NUMBER = make_number(8, GuaranteeKind.ADVANCE, 9_999_999)  # valid, never issued
PARALLEL = 16


def test_parallel_wrong_keys_at_98_failures_check_two_keys_and_lock_once():
    AccessLog.objects.bulk_create(
        AccessLog(at=NOW - throttle.MAX_DELAY, ip="192.0.2.1", number=NUMBER, outcome="failure")
        for _ in range(throttle.LOCK_AT - 2)
    )

    def wrong_key(i):
        return lambda: services.find_guarantee(
            typed_number=NUMBER, typed_key="ABCD-EFGH-JKMN-PQRS", ip=f"198.51.100.{i}"
        ).result

    results = at_once(*(wrong_key(i) for i in range(PARALLEL)))

    answers = [value for kind, value in results if kind == "ok"]
    assert len(answers) == PARALLEL, results
    assert answers.count(services.Result.NO_MATCH) == 2
    assert answers.count(services.Result.LOCKED) == PARALLEL - 2
    assert AccessLog.objects.filter(number=NUMBER, outcome="failure").count() == throttle.LOCK_AT
    assert NumberLock.objects.filter(number=NUMBER).count() == 1
    assert Alert.objects.filter(kind=Alert.Kind.NUMBER_LOCKED, subject=NUMBER).count() == 1
