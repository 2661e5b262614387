"""The monthly conclusions CSV for accounting: UTF-8 with a BOM, the month in Japan time."""

import csv
import datetime
import io

import pytest
from django.urls import reverse

from certificates.models import Certificate, Guarantee
from console.views import MSG_MONTH
from tests.conftest import JST, WORK_DATES, make_concluded, make_registered_guarantee, make_staff

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def staff_client(client, db):
    client.force_login(make_staff())
    return client


def _rows(response):
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _at(guarantee, at):
    Guarantee.objects.filter(pk=guarantee.pk).update(concluded_at=at)


def test_the_month_lists_each_conclusion_with_amounts_and_fee(staff_client):
    (concluded,) = make_concluded(**WORK_DATES)  # today, 2026-11-30: its real fee
    late_october = make_registered_guarantee()
    _at(late_october, datetime.datetime(2026, 10, 31, 23, 59, tzinfo=JST))
    early_november = make_registered_guarantee()
    _at(early_november, datetime.datetime(2026, 11, 1, 0, 0, tzinfo=JST))

    response = staff_client.get(reverse("admin:console_conclusions_csv"), {"month": "2026-11"})

    assert response["Content-Disposition"] == 'attachment; filename="conclusions-2026-11.csv"'
    header, *rows = _rows(response)
    assert header[:3] == ["保証契約番号", "保証の種類", "発注者"]
    assert [r[0] for r in rows] == [early_november.number_display, concluded.number_display]
    fee = Certificate.objects.get(guarantee=concluded, version=1).content["fee"]["fee"]
    last = rows[-1]
    assert last[1] == "前払金保証" and last[3] == concluded.company.name
    assert last[6] == "4900000" and last[7] == str(fee) and last[8] == "2026-11-30"


def test_october_ends_at_midnight_in_japan(staff_client):
    late_october = make_registered_guarantee()
    _at(late_october, datetime.datetime(2026, 10, 31, 23, 59, tzinfo=JST))

    response = staff_client.get(reverse("admin:console_conclusions_csv"), {"month": "2026-10"})

    (_, row) = _rows(response)
    assert row[0] == late_october.number_display and row[8] == "2026-10-31"


def test_a_month_with_none_has_the_header_only(staff_client):
    response = staff_client.get(reverse("admin:console_conclusions_csv"), {"month": "2025-01"})

    assert len(_rows(response)) == 1


@pytest.mark.parametrize("month", ["", "2026-13", "令和8年11月", "x" * 300])
def test_a_bad_month_answers_400_with_the_reason(staff_client, month):
    response = staff_client.get(reverse("admin:console_conclusions_csv"), {"month": month})

    assert response.status_code == 400
    assert MSG_MONTH in response.content.decode()


def test_the_report_wants_a_get(staff_client):
    response = staff_client.post(reverse("admin:console_conclusions_csv"), {"month": "2026-11"})

    assert response.status_code == 405


def test_anonymous_users_get_no_report(client, db):
    response = client.get(reverse("admin:console_conclusions_csv"), {"month": "2026-11"})

    assert response.status_code == 302
