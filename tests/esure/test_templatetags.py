"""The wareki and yen filters, available in every template without {% load %}."""

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template


def render(source, **context):
    return Template(source).render(Context(context))


def test_wareki_filter():
    assert render("{{ d|wareki }}", d=datetime.date(2024, 10, 1)) == "令和6年10月1日"
    assert render("{{ d|wareki }}", d=datetime.date(2019, 5, 1)) == "令和元年5月1日"


def test_wareki_filter_reads_aware_datetimes_in_tokyo():
    at = datetime.datetime(2019, 4, 30, 15, 0, tzinfo=datetime.UTC)
    assert render("{{ at|wareki }}", at=at) == "令和元年5月1日"


def test_yen_filter():
    assert render("{{ a|yen }}", a=12_345_000) == "金12,345,000円"
    assert render("{{ a|yen }}", a=Decimal("1300000")) == "金1,300,000円"


def test_none_and_missing_values_render_empty():
    assert render("[{{ d|wareki }}][{{ a|yen }}]", d=None, a=None) == "[][]"
    assert render("[{{ missing|wareki }}][{{ missing|yen }}]") == "[][]"


def test_bad_values_fail_loudly():
    # A certificate must not print a silently wrong date or amount.
    with pytest.raises(TypeError):
        render("{{ d|wareki }}", d="2024-10-01")
    with pytest.raises(TypeError):
        render("{{ a|yen }}", a=1.5)
