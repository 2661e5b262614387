"""Menu 4 (保存中・手続き中一覧): the company's applications, filtered by status and orderer."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Orderer
from applications import selectors, views
from applications.models import Application
from esure.choices import GuaranteeKind
from esure.pagination import PER_PAGE
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    join_a_joint_venture,
    listed_applications,
    listed_orderers,
    make_application,
    make_applications_bulk,
    make_orderer,
    make_work,
    page_shown,
    statement_texts,
)

INDEX = reverse("applications:index")
S = Application.Status

# Measured: session, user with its membership and company joined (accounts.backends), one page
# of applications with their work's and orderer's names, their items, the count (for the
# page links) and the filter's orderers as scalar subqueries (esure.pagination; compiled once
# per process, decision 0044). Independent of the count (7 before issue 22, 5 before the items
# were read with their rows, 4 before the orderers were).
QUERY_BUDGET = 3
# A page without rows reads the filter's orderers on their own.
EMPTY_PAGE_QUERIES = 4


@pytest.fixture
def usuki(db):
    return make_orderer("臼杵市", electronic_terms_name="")


@pytest.fixture
def listed(clerk, other_clerk, tsukumi, usuki):
    """The clerk's draft and submitted applications (two orderers), and another company's."""
    company = clerk.membership.company
    return {
        "draft": make_application(
            work=make_work(company, name="市道堅徳線道路改良工事"),
            items={GuaranteeKind.ADVANCE: None},
        ),
        "submitted": make_application(
            work=make_work(company, name="津久見港護岸補修工事"),
            status=S.SUBMITTED,
            items={GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT},
        ),
        "usuki": make_application(
            work=make_work(company, orderer=usuki, name="臼杵川河川改修工事"),
            status=S.RETURNED,
        ),
        "other": make_application(
            work=make_work(other_clerk.membership.company, name="他社の秘密の工事"),
            status=S.SUBMITTED,
        ),
    }


def rows(response):
    return set(listed_applications(response))


def test_list_shows_the_companys_applications_with_status_orderer_work_and_amounts(
    clerk_client, listed
):
    response = clerk_client.get(INDEX)

    assert response.status_code == 200
    assert rows(response) == {listed[k].pk for k in ("draft", "submitted", "usuki")}
    page = response.content.decode()
    assert '<span class="badge badge--draft">保存中</span>' in page
    assert '<span class="badge badge--submitted">手続き中</span>' in page
    assert '<span class="badge badge--returned">差戻し</span>' in page
    for text in ("市道堅徳線道路改良工事", "津久見港護岸補修工事", "臼杵川河川改修工事"):
        assert text in page
    assert "<td>津久見市</td>" in page
    assert "<td>臼杵市</td>" in page
    assert "前払金保証 金4,900,000円" in page
    assert "契約保証 金1,234,500円" in page
    assert "前払金保証 —" in page  # the draft's amount not typed yet
    assert reverse("applications:detail", args=[listed["submitted"].pk]) in page


def test_another_companys_applications_never_appear(clerk_client, listed):
    for query in ("", "?status=submitted", f"?orderer={listed['other'].work.orderer_id}"):
        response = clerk_client.get(INDEX + query)
        assert listed["other"].pk not in rows(response)
        assert "他社の秘密の工事" not in response.content.decode()


def test_filter_by_status(clerk_client, listed):
    assert rows(clerk_client.get(INDEX, {"status": "draft"})) == {listed["draft"].pk}
    assert rows(clerk_client.get(INDEX, {"status": "submitted"})) == {listed["submitted"].pk}
    assert rows(clerk_client.get(INDEX, {"status": "approved"})) == set()
    # An unknown status is ignored rather than an error.
    assert len(rows(clerk_client.get(INDEX, {"status": "nonsense"}))) == 3


def test_filter_by_orderer(clerk_client, listed, tsukumi, usuki):
    response = clerk_client.get(INDEX, {"orderer": usuki.pk})

    assert rows(response) == {listed["usuki"].pk}
    assert f'<option value="{usuki.pk}" selected>臼杵市</option>' in response.content.decode()
    tsukumi_rows = rows(clerk_client.get(INDEX, {"orderer": tsukumi.pk}))
    assert tsukumi_rows == {listed["draft"].pk, listed["submitted"].pk}


def test_filter_offers_only_the_companys_orderers(clerk_client, clerk, other_clerk, tsukumi):
    saiki = make_orderer("佐伯市")
    make_application(work=make_work(other_clerk.membership.company, orderer=saiki))
    make_application(work=make_work(clerk.membership.company, orderer=tsukumi))

    orderers = listed_orderers(clerk_client.get(INDEX))

    assert orderers == [{"pk": tsukumi.pk, "name": tsukumi.name}]


def test_empty_list_says_so(clerk_client, db):
    assert "該当するお申込みはありません。" in clerk_client.get(INDEX).content.decode()


def test_a_page_without_rows_still_offers_the_orderers(
    clerk_client, listed, usuki, django_assert_num_queries
):
    with django_assert_num_queries(EMPTY_PAGE_QUERIES):
        response = clerk_client.get(INDEX, {"status": S.DECLINED})

    assert listed_applications(response) == {}
    assert (str(usuki.pk), "", "臼杵市") in options_of(response.content.decode())


@pytest.mark.parametrize("name", ["臼杵市", "12:3市", ":", "a:1:b", "市\n役所", "", "🏯" * 3])
def test_the_orderers_read_back_whole_whatever_their_names(clerk_client, clerk, name):
    orderer = make_orderer(name or "x")
    Orderer.objects.filter(pk=orderer.pk).update(name=name)
    other = make_orderer("佐伯市")
    for o in (orderer, other):
        make_application(work=make_work(clerk.membership.company, orderer=o))

    orderers = listed_orderers(clerk_client.get(INDEX))

    assert {"pk": orderer.pk, "name": name} in orderers
    assert {"pk": other.pk, "name": "佐伯市"} in orderers


@pytest.mark.parametrize("count", [20, 200])
def test_list_query_count_does_not_grow_with_the_applications(
    clerk_client, clerk, tsukumi, django_assert_max_num_queries, count
):
    make_applications_bulk(clerk.membership.company, count, orderer=tsukumi, by=clerk)

    with django_assert_max_num_queries(QUERY_BUDGET):
        response = clerk_client.get(INDEX)

    assert len(listed_applications(response)) == min(count, PER_PAGE)
    shown = page_shown(response)  # one page of 20: no page links
    assert (shown[0] if shown else PER_PAGE) == count


def test_list_issues_the_same_queries_for_20_and_200(clerk_client, clerk, tsukumi):
    company = clerk.membership.company
    counts = []
    for batch in (20, 180):
        make_applications_bulk(company, batch, orderer=tsukumi, by=clerk)
        with CaptureQueriesContext(connection) as queries:
            response = clerk_client.get(INDEX, {"status": "submitted"})
        assert response.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1] == QUERY_BUDGET


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL spelling")
def test_the_filters_orderers_read_the_joint_ventures_works_through_the_index(
    clerk_client, clerk, listed
):
    join_a_joint_venture(clerk.membership.company)
    with CaptureQueriesContext(connection) as queries:
        clerk_client.get(INDEX)

    [sql] = [sql for sql in statement_texts(queries) if 'FROM "accounts_orderer"' in sql]
    assert '"joint_venture_id" = ANY(ARRAY(SELECT' in sql  # esure.queries.AnyOf: no scan


def test_a_company_in_no_joint_venture_reads_its_own_rows_without_the_jv_condition(
    clerk_client, clerk, listed
):
    """Decision 0056: the user's load says the company is in no 共同企業体, so menu 4's
    statement (rows and filter) has no JV condition; once it joins one, the next page has."""
    with CaptureQueriesContext(connection) as queries:
        alone = clerk_client.get(INDEX)
    join_a_joint_venture(clerk.membership.company)
    with CaptureQueriesContext(connection) as joined_queries:
        joined = clerk_client.get(INDEX)

    def page_statement(captured):
        [sql] = [s for s in statement_texts(captured) if '"applications_application"' in s]
        return sql

    assert "jointventuremember" not in page_statement(queries)
    assert "jointventuremember" in page_statement(joined_queries)
    assert len(queries) == len(joined_queries) == QUERY_BUDGET
    own = {a.pk for a in listed.values() if a.company_id == clerk.membership.company_id}
    assert own and set(listed_applications(alone)) == own
    assert set(listed_applications(joined)) == own  # the JV has none


def test_a_row_and_the_filters_print_each_value_escaped(clerk_client, clerk):
    orderer = make_orderer('臼<杵>&"市', electronic_terms_name="")
    application = make_application(
        work=make_work(clerk.membership.company, orderer=orderer, name="<b>護岸</b>工事"),
        status=S.SUBMITTED,
        items={GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT},
    )
    application.refresh_from_db()
    updated = timezone.localtime(application.updated_at).strftime("%Y/%m/%d %H:%M")

    page = clerk_client.get(INDEX, {"status": "submitted", "orderer": orderer.pk}).content
    page = page.decode()

    pk = application.pk
    assert (
        "\n    <tr>\n"
        f'      <td><a href="/applications/{pk}/">{pk}</a></td>\n'
        '      <td><span class="badge badge--submitted">手続き中</span></td>\n'
        "      <td>前払金保証・契約保証</td>\n"
        "      <td>臼&lt;杵&gt;&amp;&quot;市</td>\n"
        "      <td>&lt;b&gt;護岸&lt;/b&gt;工事</td>\n"
        '      <td class="num">前払金保証 金4,900,000円<br>契約保証 金1,234,500円</td>\n'
        f"      <td>{updated}</td>\n"
        "    </tr>\n"
    ) in page
    assert '<option value="submitted" selected>手続き中</option>' in page
    assert '<option value="draft">保存中</option>' in page
    assert f'<option value="{orderer.pk}" selected>臼&lt;杵&gt;&amp;&quot;市</option>' in page


@pytest.mark.parametrize(
    ("text", "items"),
    [
        (None, []),
        ("", []),
        ("advance:4900000", [("advance", 4900000)]),
        ("contract:1234500,advance:", [("advance", None), ("contract", 1234500)]),
        (
            "intermediate:1,contract:2,advance:3",
            [("advance", 3), ("contract", 2), ("intermediate", 1)],
        ),
    ],
)
def test_a_rows_items_are_read_back_by_kind_with_an_untyped_amount_as_none(text, items):
    assert selectors.items_in(text) == items


def test_the_items_come_with_their_rows(clerk_client, listed):
    by_pk = listed_applications(clerk_client.get(INDEX))

    assert by_pk[listed["submitted"].pk] == ["前払金保証 金4,900,000円", "契約保証 金1,234,500円"]
    assert by_pk[listed["draft"].pk] == ["前払金保証 —"]


def options_of(html):
    return re.findall(r'<option value="(\d+)"( selected)?>([^<]*)</option>', html)


def test_the_orderer_options_are_made_once_per_orderers_and_choice(clerk_client, listed, usuki):
    views._options_of.cache_clear()
    first = clerk_client.get(INDEX, {"orderer": usuki.pk}).content.decode()
    again = clerk_client.get(INDEX, {"orderer": usuki.pk}).content.decode()
    other = clerk_client.get(INDEX).content.decode()

    info = views._options_of.cache_info()
    assert (info.hits, info.misses) == (1, 2)  # the second request's options were kept
    assert options_of(first) == options_of(again)
    assert (str(usuki.pk), " selected", "臼杵市") in options_of(first)
    assert not any(selected for _, selected, _ in options_of(other))


def test_a_new_or_renamed_orderer_shows_at_once(clerk_client, clerk, listed, usuki):
    before = options_of(clerk_client.get(INDEX).content.decode())
    saiki = make_orderer("佐伯市")
    make_application(work=make_work(clerk.membership.company, orderer=saiki))
    Orderer.objects.filter(pk=usuki.pk).update(name="臼杵市役所")

    after = options_of(clerk_client.get(INDEX).content.decode())

    assert (str(saiki.pk), "", "佐伯市") in after and saiki.name not in str(before)
    assert (str(usuki.pk), "", "臼杵市役所") in after
    assert (str(usuki.pk), "", "臼杵市") not in after


def test_the_filters_orderers_are_put_in_order_by_name_then_pk_whatever_order_they_come_in():
    """The statement aggregates them in no order (SQLite before 3.44 orders no aggregate, and
    `make run` runs on the SQLite of its Python): orderers_in sorts them."""
    text = "9:3:臼杵市" + "2:7:津久見:市役所" + "5:3:臼杵市" + "7:2:佐伯"

    assert selectors.orderers_in(text) == [
        {"pk": 7, "name": "佐伯"},
        {"pk": 2, "name": "津久見:市役所"},
        {"pk": 5, "name": "臼杵市"},
        {"pk": 9, "name": "臼杵市"},
    ]
    assert selectors.orderers_in(None) == []
