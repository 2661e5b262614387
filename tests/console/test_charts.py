"""業務状況: each chart's numbers against hand-computed sums — a month with none, a month
boundary at 23:59 JST — drawn as SVG with a title and a table, and offered as CSV."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from applications.models import FeeReceipt, StatusChange
from console import charts, svg
from dsure.models import AccessLog
from esure.choices import GuaranteeKind
from tests.conftest import JST, make_application, make_registered_guarantee, make_staff

pytestmark = pytest.mark.usefixtures("frozen")  # 2026-11-30 10:00 JST

LAST_OCTOBER = datetime.datetime(2026, 10, 31, 23, 59, tzinfo=JST)
FIRST_NOVEMBER = datetime.datetime(2026, 11, 1, 0, 0, tzinfo=JST)


def _concluded(at, kind=GuaranteeKind.ADVANCE, amount=1_000_000):
    """A guarantee concluded at `at` (its certificate too: versions are append-only)."""
    with time_machine.travel(at, tick=False):
        return make_registered_guarantee(kind=kind, amount=amount)


def _column(chart, label):
    return dict(zip(chart.labels, chart.rows(), strict=True))[label][1:]


@pytest.mark.django_db
def test_conclusions_count_by_month_in_japan_time_and_kind():
    _concluded(LAST_OCTOBER)  # 14:59 UTC on 31 October: October in Japan
    _concluded(FIRST_NOVEMBER)  # 15:00 UTC on 31 October: November in Japan
    _concluded(FIRST_NOVEMBER, kind=GuaranteeKind.CONTRACT)

    chart = charts.conclusions_by_kind()

    assert (
        len(chart.labels) == 24 and chart.labels[0] == "2024-12" and chart.labels[-1] == "2026-11"
    )
    kinds = [name for name, _ in chart.series]
    assert kinds == [k.label for k in GuaranteeKind]
    advance, contract = kinds.index("前払金保証"), kinds.index("契約保証")
    assert _column(chart, "2026-10")[advance] == 1
    assert _column(chart, "2026-11")[advance] == 1 and _column(chart, "2026-11")[contract] == 1
    assert sum(_column(chart, "2026-09")) == 0  # a month with none


@pytest.mark.django_db
def test_amounts_and_fees_sum_per_month():
    _concluded(LAST_OCTOBER, amount=3_000_000)
    _concluded(FIRST_NOVEMBER, amount=4_900_000)
    _concluded(FIRST_NOVEMBER, amount=100_000)
    staff = make_staff()
    for day, amount in (
        (datetime.date(2026, 10, 31), 12_000),
        (datetime.date(2026, 11, 1), 30_000),
        (datetime.date(2026, 11, 30), 5_000),
    ):
        FeeReceipt.objects.create(
            application=make_application(status="concluded"),
            received_on=day,
            amount=amount,
            expected_amount=amount,
            method="transfer",
            recorded_by=staff,
        )

    chart = charts.amounts_and_fees()

    assert _column(chart, "2026-10") == (3_000_000, 12_000)
    assert _column(chart, "2026-11") == (5_000_000, 35_000)
    assert _column(chart, "2026-08") == (0, 0)


def _reviewed(submitted_at, approved_at, *, returned=False):
    application = make_application(status="approved")
    staff = application.created_by
    rows = [("draft", "submitted", submitted_at)]
    if returned:  # the lead time runs from the first submission
        rows += [("submitted", "returned", submitted_at), ("returned", "submitted", approved_at)]
    rows.append(("submitted", "approved", approved_at))
    for old, new, at in rows:
        StatusChange.objects.create(
            application=application, old_status=old, new_status=new, by=staff, at=at
        )


@pytest.mark.django_db
def test_review_lead_time_median_and_90th_percentile_per_month():
    day = datetime.timedelta(days=1)
    # Approved in November (Japan time): 1, 2, 3, 4 and 10 days after submission.
    for days in (1, 2, 3, 4):
        _reviewed(FIRST_NOVEMBER, FIRST_NOVEMBER + days * day)
    _reviewed(FIRST_NOVEMBER - 5 * day, FIRST_NOVEMBER + 5 * day, returned=True)
    # Approved at 23:59 JST on 31 October: October's, 0.5 days.
    _reviewed(LAST_OCTOBER - day / 2, LAST_OCTOBER)

    chart = charts.review_lead_times()

    assert _column(chart, "2026-11") == (3.0, 10.0, 5)  # median of 1,2,3,4,10; p90 rank 5
    assert _column(chart, "2026-10") == (0.5, 0.5, 1)
    assert _column(chart, "2026-09") == (None, None, 0)


def test_the_nearest_rank_percentile():
    values = list(range(1, 11))
    assert charts.nearest_rank(values, 90) == 9
    assert charts.nearest_rank(values, 91) == 10
    assert charts.nearest_rank([7], 90) == 7


@pytest.mark.django_db
def test_dsure_lookups_and_failures_per_day_in_japan_time():
    late = datetime.datetime(2026, 11, 28, 23, 59, tzinfo=JST)
    for at, outcome, attempts in (
        (late, "success", 1),
        (late, "failure", 1),
        (late + datetime.timedelta(minutes=1), "refused", 4),  # 29 November in Japan
        (late + datetime.timedelta(minutes=2), "handover_view", 1),  # not a lookup
    ):
        AccessLog.objects.create(
            at=at, ip="192.0.2.1", number="08100000011", outcome=outcome, attempts=attempts
        )

    chart = charts.dsure_lookups()

    assert len(chart.labels) == 90 and chart.labels[-1] == "2026-11-30"
    assert _column(chart, "2026-11-28") == (2, 1)
    assert _column(chart, "2026-11-29") == (4, 4)
    assert _column(chart, "2026-11-30") == (0, 0)


def test_a_chart_is_an_accessible_svg_without_style_attributes():
    chart = charts.Chart("t", "題<名>", "件", ["2026-10", "2026-11"], [("系列", [0, 3])])

    drawn = str(svg.render(chart))

    assert drawn.startswith("<svg") and 'role="img"' in drawn
    assert '<title id="chart-t-title">題&lt;名&gt;</title>' in drawn
    assert "style=" not in drawn and "<script" not in drawn
    assert drawn.count("<rect") == 1 + 1 + 1  # background, one bar (the zero is not drawn), legend


# --- The page ------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, db):
    client.force_login(make_staff())
    return client


def test_the_business_page_shows_each_chart_with_its_table_and_csv_link(staff_client):
    _concluded(FIRST_NOVEMBER)

    response = staff_client.get(reverse("admin:console_business"))

    page = response.content.decode()
    assert response.status_code == 200
    for slug, build in charts.CHARTS.items():
        assert build().title in page
        assert reverse("admin:console_chart_csv", args=[slug]) in page
    assert page.count("<svg") >= len(charts.CHARTS)
    assert page.count("<caption>") >= len(charts.CHARTS)


def test_a_chart_downloads_as_csv_with_the_same_numbers(staff_client):
    _concluded(FIRST_NOVEMBER)

    response = staff_client.get(reverse("admin:console_chart_csv", args=["conclusions"]))

    text = response.content.decode("utf-8")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert text.startswith("\ufeff,前払金保証,")
    assert "2026-11,1,0,0\r\n" in text


def test_an_unknown_chart_is_404(staff_client):
    assert staff_client.get(reverse("admin:console_chart_csv", args=["nope"])).status_code == 404


def test_the_business_page_wants_a_get(staff_client):
    assert staff_client.post(reverse("admin:console_business")).status_code == 405


def test_anonymous_users_are_sent_to_log_in(client, db):
    response = client.get(reverse("admin:console_business"))

    assert response.status_code == 302 and "login" in response["Location"]
