"""esure.queries.AnyOf: a company's own rows or its 共同企業体's, read without a scan of the
registry (the lists and access helpers of both faces use it through readable_by)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certificates import selectors as registry
from certificates.models import Guarantee


def test_a_member_reads_its_own_and_its_joint_ventures_rows_only(member_and_rows):
    member, own, of_jv, leaders_own, strangers = member_and_rows

    readable = set(Guarantee.objects.filter(registry.readable_by(member)))

    assert readable == {own, of_jv}
    assert leaders_own not in readable and strangers not in readable


def test_a_company_in_no_joint_venture_reads_its_own_rows(member_and_rows):
    *_, strangers = member_and_rows

    assert set(Guarantee.objects.filter(registry.readable_by(strangers.company))) == {strangers}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL spelling")
def test_on_postgresql_the_joint_ventures_works_are_an_array_the_index_can_take(member_and_rows):
    member = member_and_rows[0]

    with CaptureQueriesContext(connection) as queries:
        list(Guarantee.objects.filter(registry.readable_by(member)))

    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert '"work_id" = ANY(ARRAY(SELECT' in sql
    assert " JOIN " not in sql  # no join of every work to every guarantee
