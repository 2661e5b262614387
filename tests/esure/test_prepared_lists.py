"""esure.queries.Prepared and esure.pagination.PreparedList: a list's statement compiled once
per process and run with each request's values — another request's values must never show
through, and a queryset whose value does not reach the SQL as a parameter is refused."""

import re

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.functions import Upper
from django.test.utils import CaptureQueriesContext

from certificates import selectors as registry
from certificates.models import Guarantee
from esure.queries import Prepared
from tests.conftest import statement_texts


def numbers_of(company):
    return [row["number"] for row in _readable.rows(limit=20, company=company.pk)]


_readable = Prepared(
    lambda company: (
        Guarantee.objects.filter(registry.readable_by(company)).order_by("number").values("number")
    )
)


def test_each_request_reads_its_own_companys_rows_through_one_compiled_statement(
    member_and_rows,
):
    member, own, of_jv, leaders_own, strangers = member_and_rows

    assert numbers_of(member) == sorted([own.number, of_jv.number])
    assert numbers_of(strangers.company) == [strangers.number]
    assert numbers_of(leaders_own.company) == sorted([of_jv.number, leaders_own.number])
    assert len(_readable._compiled) == 1  # the three companies shared one compile


def test_limit_and_offset_page_the_rows(member_and_rows):
    member, own, of_jv, *_ = member_and_rows
    both = sorted([own.number, of_jv.number])

    assert [r["number"] for r in _readable.rows(limit=1, company=member.pk)] == both[:1]
    assert [r["number"] for r in _readable.rows(limit=1, offset=1, company=member.pk)] == both[1:]


def test_the_limit_is_in_the_text_and_the_offset_a_parameter_past_the_first_page(
    member_and_rows,
):
    member = member_and_rows[0]

    def text_of(**paging):
        with CaptureQueriesContext(connection) as captured:
            _readable.rows(company=member.pk, **paging)
        [text] = statement_texts(captured)
        return text

    first, second = text_of(limit=7), text_of(limit=7, offset=7)
    assert first.endswith(" LIMIT 7") and "OFFSET" not in first
    assert re.search(r" LIMIT 7 OFFSET (%s|\$\d+)$", second)
    text_of(limit=7)
    assert len([k for k in _readable._paged if k[1:] in ((7, False), (7, True))]) == 2  # made once


def test_an_empty_filter_is_a_shape_of_its_own(member_and_rows):
    member, own, *_ = member_and_rows
    by_kind = Prepared(
        lambda company, kind: (
            Guarantee.objects.filter(company=company)
            .filter(**({"kind": kind} if kind else {}))
            .values("number")
        )
    )

    assert [r["number"] for r in by_kind.rows(limit=5, company=member.pk, kind="")] == [own.number]
    assert by_kind.rows(limit=5, company=member.pk, kind="no-such-kind") == []
    assert [r["number"] for r in by_kind.rows(limit=5, company=member.pk, kind=own.kind)] == [
        own.number
    ]


def test_rows_are_converted_as_the_orm_converts_them(member_and_rows):
    own = member_and_rows[1]
    concluded = Prepared(
        lambda company: Guarantee.objects.filter(company=company).values("concluded_at")
    )

    [row] = concluded.rows(limit=1, company=own.company_id)

    assert row == {"concluded_at": own.concluded_at}


def test_a_value_that_does_not_reach_the_sql_as_a_parameter_is_refused(db):
    # Upper(…) = value would still match a placeholder; a value used inside an expression the
    # ORM rewrites (icontains wraps it in %…%) would not: refused at the first compile.
    wrapped = Prepared(lambda name: Guarantee.objects.filter(number__icontains=name).values("pk"))
    unused = Prepared(lambda company: Guarantee.objects.values("pk"))

    with pytest.raises(ValueError, match="name"):
        wrapped.rows(limit=1, name="06")
    with pytest.raises(ValueError, match="company"):
        unused.rows(limit=1, company=1)
    upper = Prepared(
        lambda kind: Guarantee.objects.annotate(k=Upper(F("kind"))).filter(k=kind).values("pk")
    )
    assert upper.rows(limit=1, kind="ADVANCE") == []


def test_the_statement_is_one_query(member_and_rows):
    member = member_and_rows[0]
    numbers_of(member)

    with CaptureQueriesContext(connection) as queries:
        numbers_of(member)

    assert len(queries) == 1


def test_a_list_of_ids_is_a_placeholder_per_id_its_length_a_shape(member_and_rows):
    _, own, of_jv, leaders_own, strangers = member_and_rows
    by_ids = Prepared(
        lambda ids: Guarantee.objects.filter(pk__in=ids).order_by("number").values("number")
    )

    def numbers(*guarantees):
        return [r["number"] for r in by_ids.rows(ids=[g.pk for g in guarantees])]

    assert numbers(own, strangers) == sorted([own.number, strangers.number])
    assert numbers(of_jv, leaders_own) == sorted([of_jv.number, leaders_own.number])
    assert numbers(own) == [own.number]
    assert numbers() == []  # no query, as the ORM
    assert len(by_ids._compiled) == 2  # two ids, one id
