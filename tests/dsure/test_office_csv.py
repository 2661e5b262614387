"""The office list as CSV for the city's systems (decision 0018): UTF-8 with a BOM, 和暦 and
ISO dates, amounts as integers; read back, it says what the list says."""

import csv
import datetime
import io

import pytest
from django.test import Client
from django.urls import reverse

from certificates import services
from esure.wareki import to_wareki
from tests.conftest import WORK_DATES, advance_office, make_office_user
from tests.dsure.test_office_list import make_rows

URL = reverse("dsure:inbox_csv")


@pytest.fixture
def office(tsukumi):
    return advance_office(tsukumi)


@pytest.fixture
def official(office):
    return make_office_user(office)


@pytest.fixture
def official_client(client_for, official):
    return client_for(official)


def read(response):
    data = response.content
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_csv_round_trips(official_client, office, official):
    rows = make_rows(office, 3)
    services.receive(certificate=rows[0].certificates.get(), office=office, by=official)

    response = official_client.get(URL)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="guarantees-20261130.csv"'
    read_back = {r["保証契約番号"]: r for r in read(response)}
    assert set(read_back) == {g.number_display for g in rows}
    first = read_back[rows[0].number_display]
    assert int(first["保証金額"]) == rows[0].certificates.get().amount == 4_900_000
    assert datetime.date.fromisoformat(first["保証期限ISO"]) == WORK_DATES["end_date"]
    assert first["保証期限"] == to_wareki(WORK_DATES["end_date"]) == "令和9年3月19日"
    assert datetime.date.fromisoformat(first["保証期間（自）ISO"]) == WORK_DATES["start_date"]
    assert (first["保証の種類"], first["工事番号"], first["工事名"]) == (
        "前払金保証",
        "R-00000",
        "一覧工事00000",
    )
    assert (first["状態"], first["最新の版"], first["受領状況"]) == ("有効", "1", "受領済（第1版）")
    assert read_back[rows[1].number_display]["受領状況"] == "未受領"


def test_the_csv_keeps_the_filters(official_client, office):
    rows = make_rows(office, 3)

    only = read(official_client.get(URL, {"q": "一覧工事00002"}))

    assert [r["保証契約番号"] for r in only] == [rows[2].number_display]


def test_the_csv_is_the_offices_own_and_needs_a_login(official_client, office, tsukumi):
    from tests.conftest import make_orderer

    make_rows(advance_office(make_orderer("臼杵市")), 2)

    assert read(official_client.get(URL)) == []
    assert official_client.post(URL).status_code == 405
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("rows", [20, 200])
def test_the_csv_reads_a_constant_number_of_queries(
    official_client, office, rows, django_assert_max_num_queries
):
    make_rows(office, rows)
    official_client.get(URL)
    with django_assert_max_num_queries(5):
        assert len(read(official_client.get(URL))) == rows
