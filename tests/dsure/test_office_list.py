"""The office's list (/dsure/office/, decision 0018): every guarantee that reached the office,
with its current terms, status and the office's answer; filters, search and sort kept across
pages of 20; the same number of queries for 20 rows as for 2,000."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates import services as registry
from certificates.models import Certificate, Guarantee, Submission, Work
from certificates.numbering import make_number
from tests.conftest import (
    MAX_ADVANCE,
    WORK_DATES,
    advance_office,
    make_company,
    make_office_user,
    make_orderer,
)

URL = reverse("dsure:inbox")
TODAY = datetime.date(2026, 11, 30)  # tests.conftest.NOW


@pytest.fixture
def office(tsukumi):
    return advance_office(tsukumi)


@pytest.fixture
def official_client(office):
    browser = Client()
    browser.force_login(make_office_user(office))
    return browser


_serial = iter(range(500_000, 9_000_000))


def make_rows(office, count, *, company=None, ends_on=WORK_DATES["end_date"], **overrides):
    """`count` guarantees delivered to `office` (v1, 未受領), in four bulk inserts. Each is a
    前払金保証 of its own work (工事番号 R-00000…) unless `overrides` say otherwise."""
    company = company or make_company(name="株式会社一覧建設")
    now = timezone.now()
    kind = overrides.pop("kind", "advance")
    works = Work.objects.bulk_create(
        Work(
            company=company,
            orderer=office.orderer,
            office=office,
            work_number=overrides.get("work_number", f"R-{i:05d}"),
            name=overrides.get("name", f"一覧工事{i:05d}"),
            price=12_345_000,
            **WORK_DATES,
        )
        for i in range(count)
    )
    guarantees = Guarantee.objects.bulk_create(
        Guarantee(
            number=make_number(8, kind, next(_serial)),
            kind=kind,
            company=company,
            work=work,
            orderer=office.orderer,
            office=office,
            delivery="electronic",
            key_version=1,
            concluded_at=now - datetime.timedelta(minutes=i),
        )
        for i, work in enumerate(works)
    )
    certificates = Certificate.objects.bulk_create(
        Certificate(
            guarantee=g,
            version=1,
            content={},
            fingerprint="0" * 64,
            amount=MAX_ADVANCE + i,
            starts_on=WORK_DATES["start_date"],
            ends_on=ends_on,
            issued_at=g.concluded_at,
        )
        for i, g in enumerate(guarantees)
    )
    Submission.objects.bulk_create(
        Submission(
            guarantee=c.guarantee,
            certificate=c,
            office=office,
            channel="inbox",
            delivered_at=c.issued_at,
        )
        for c in certificates
    )
    return guarantees


def numbers_shown(response):
    return [g.number for g in response.context["guarantees"]]


def test_anonymous_is_sent_to_the_login(db):
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_list_is_read_with_get_only(official_client):
    assert official_client.post(URL).status_code == 405


def test_a_row_shows_what_the_office_needs(official_client, office, frozen):
    [g] = make_rows(office, 1)

    html = official_client.get(URL).content.decode()

    for text in (
        g.number_display,
        "前払金保証",
        "R-00000",
        "一覧工事00000",
        "株式会社一覧建設",
        "4,900,000円",
        "令和8年11月24日〜令和9年3月19日",
        "有効",
        "第1版",
        "未受領",
    ):
        assert text in html, text


def test_another_orderers_guarantees_are_not_listed(official_client, office, frozen):
    usuki_office = advance_office(make_orderer("臼杵市"))
    make_rows(usuki_office, 2)
    mine = make_rows(office, 1)

    assert numbers_shown(official_client.get(URL)) == [mine[0].number]


def test_twenty_a_page_with_the_filters_kept(official_client, office, frozen):
    make_rows(office, 45)

    first = official_client.get(URL, {"q": "一覧工事", "sort": "number"})
    assert len(first.context["guarantees"]) == 20
    html = first.content.decode()
    assert "全45件中 1〜20件を表示" in html
    assert 'href="?q=%E4%B8%80%E8%A6%A7%E5%B7%A5%E4%BA%8B&amp;sort=number&amp;page=2"' in html
    third = official_client.get(URL, {"q": "一覧工事", "sort": "number", "page": 3})
    assert len(third.context["guarantees"]) == 5
    assert third.context["form"]["q"].value() == "一覧工事"  # kept in the form


@pytest.mark.parametrize("rows", [20, 2_000])
def test_the_query_count_does_not_grow_with_the_rows(official_client, office, frozen, rows):
    make_rows(office, rows)
    official_client.get(URL)  # session and user warm

    with CaptureQueriesContext(connection) as queries:
        response = official_client.get(URL, {"sort": "ends", "unreceived": "on"})

    assert len(response.context["guarantees"]) == 20
    # session, user (with its company membership joined — none: accounts.backends), the
    # office account (with office and orderer), the page's rows with their count
    # (esure.pagination): nothing per row
    assert len(queries) == 4, "\n".join(q["sql"][:150] for q in queries)


def test_filters_by_kind_status_and_answer(official_client, office, frozen):
    advance, changed, cancelled, expired = make_rows(office, 4)
    [contract] = make_rows(office, 1, kind="contract", work_number="C-1")
    Certificate.objects.bulk_create(
        [
            Certificate(
                guarantee=changed,
                version=2,
                content={},
                fingerprint="1" * 64,
                amount=MAX_ADVANCE,
                starts_on=WORK_DATES["start_date"],
                ends_on=WORK_DATES["end_date"],
                issued_at=timezone.now(),
                change_summary="増額",
            ),
            Certificate(
                guarantee=expired,
                version=2,
                content={},
                fingerprint="2" * 64,
                amount=MAX_ADVANCE,
                starts_on=WORK_DATES["start_date"],
                ends_on=TODAY - datetime.timedelta(days=1),
                issued_at=timezone.now(),
                change_summary="保証期限変更",
            ),
        ]
    )
    Guarantee.objects.filter(pk=cancelled.pk).update(cancelled_at=timezone.now())
    user = office.members.get().user
    registry.receive(certificate=advance.certificates.get(), office=office, by=user)
    registry.return_(certificate=contract.certificates.get(), office=office, by=user, reason="誤り")

    def shown(**params):
        return set(numbers_shown(official_client.get(URL, params)))

    assert shown(kind="contract") == {contract.number}
    assert shown(status="valid") == {advance.number, contract.number}
    assert shown(status="changed") == {changed.number}
    assert shown(status="cancelled") == {cancelled.number}
    assert shown(status="expired") == {expired.number}
    assert shown(returned="on") == {contract.number}
    # 未受領: never answered, or a newer version than the one answered
    assert shown(unreceived="on") == {changed.number, cancelled.number, expired.number}


@pytest.mark.parametrize("days, listed", [(29, False), (30, True), (31, True)])
def test_ending_within_n_days(official_client, office, frozen, days, listed):
    [g] = make_rows(office, 1, ends_on=TODAY + datetime.timedelta(days=30))

    assert (g.number in numbers_shown(official_client.get(URL, {"ending_within": days}))) is listed


def test_a_bad_day_count_is_explained_and_filters_nothing(official_client, office, frozen):
    make_rows(office, 2)

    response = official_client.get(URL, {"ending_within": "三十"})

    assert response.status_code == 200
    assert "日数は半角数字で入力してください。" in response.content.decode()
    assert len(response.context["guarantees"]) == 2


@pytest.mark.parametrize(
    "typed", ["R-00001", "一覧工事00001", "{number}", "{display}", "{fullwidth}"]
)
def test_search_by_work_number_name_and_guarantee_number(official_client, office, frozen, typed):
    rows = make_rows(office, 3)
    target = rows[1]
    display = target.number_display
    typed = typed.format(
        number=target.number,
        display=display,
        fullwidth=display.translate(str.maketrans("0123456789-", "０１２３４５６７８９－")),
    )

    assert numbers_shown(official_client.get(URL, {"q": typed})) == [target.number]


def test_search_by_contractor(official_client, office, frozen):
    make_rows(office, 2)
    [other] = make_rows(office, 1, company=make_company(name="豊後土木株式会社"))

    assert numbers_shown(official_client.get(URL, {"q": "豊後土木"})) == [other.number]


def test_sorting(official_client, office, frozen):
    rows = make_rows(office, 3)  # amounts ascending with i, delivered newest first

    by_amount = numbers_shown(official_client.get(URL, {"sort": "amount"}))
    assert by_amount == [g.number for g in reversed(rows)]
    newest = numbers_shown(official_client.get(URL))
    assert newest == [g.number for g in rows]
    by_number = numbers_shown(official_client.get(URL, {"sort": "number"}))
    assert by_number == sorted(g.number for g in rows)


def test_two_valid_guarantees_of_a_kind_for_one_work_number_are_flagged(
    official_client, office, frozen
):
    first = make_rows(office, 1, work_number="津土第R8-7号")
    second = make_rows(office, 1, work_number="津土第R8-7号")
    make_rows(office, 1, kind="contract", work_number="津土第R8-7号")  # another kind: fine
    [alone] = make_rows(office, 1, work_number="津土第R8-8号")

    rows = {g.number: g for g in official_client.get(URL).context["guarantees"]}
    assert rows[first[0].number].duplicate and rows[second[0].number].duplicate
    assert not rows[alone.number].duplicate
    assert "重複の可能性" in official_client.get(URL).content.decode()
    # once one is cancelled, the other is alone
    Guarantee.objects.filter(pk=first[0].pk).update(cancelled_at=timezone.now())
    rows = {g.number: g for g in official_client.get(URL).context["guarantees"]}
    assert not rows[second[0].number].duplicate


def test_a_row_opened_with_the_key_links_to_the_key_page(official_client, office, frozen):
    [delivered] = make_rows(office, 1)
    [opened] = make_rows(office, 1, work_number="K-1")
    Submission.objects.filter(guarantee=opened).update(channel="key")

    html = official_client.get(URL).content.decode()

    assert f'href="{reverse("dsure:viewer", args=[delivered.number])}"' in html
    assert f'href="{reverse("dsure:lookup")}?number={opened.number_display}"' in html
