"""和暦 dates, 令和 fiscal years and yen amounts (esure/wareki.py)."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from esure.wareki import fiscal_year_reiwa, format_yen, to_wareki

UTC = datetime.UTC
D = datetime.date


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2024, 10, 1), "令和6年10月1日"),  # 津久見市 goes electronic
        (D(2019, 5, 1), "令和元年5月1日"),
        (D(2019, 12, 31), "令和元年12月31日"),
        (D(2020, 1, 1), "令和2年1月1日"),
        (D(2019, 4, 30), "平成31年4月30日"),
        (D(1989, 1, 8), "平成元年1月8日"),
        (D(1990, 1, 1), "平成2年1月1日"),
        (D(1989, 1, 7), "昭和64年1月7日"),
        (D(1927, 1, 1), "昭和2年1月1日"),
        (D(1926, 12, 25), "昭和元年12月25日"),
    ],
)
def test_to_wareki(day, expected):
    assert to_wareki(day) == expected


def test_before_showa_is_refused():
    with pytest.raises(ValueError, match="昭和"):
        to_wareki(D(1926, 12, 24))


def test_aware_datetime_is_read_as_its_tokyo_date():
    # 2019-04-30 15:00 UTC is 2019-05-01 00:00 in Tokyo: the first day of 令和.
    assert to_wareki(datetime.datetime(2019, 4, 30, 15, 0, tzinfo=UTC)) == "令和元年5月1日"
    assert to_wareki(datetime.datetime(2019, 4, 30, 14, 59, tzinfo=UTC)) == "平成31年4月30日"
    tokyo = datetime.datetime(2024, 10, 1, 0, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert to_wareki(tokyo) == "令和6年10月1日"


def test_naive_datetime_keeps_its_date():
    assert to_wareki(datetime.datetime(2019, 4, 30, 23, 59)) == "平成31年4月30日"


@pytest.mark.parametrize("bad", [None, "2024-10-01", 20241001, 1.5])
def test_to_wareki_refuses_non_dates(bad):
    with pytest.raises(TypeError, match="date"):
        to_wareki(bad)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2019, 4, 1), 1),  # formally 平成31年度: counted as 令和元年度 (see the docstring)
        (D(2019, 5, 1), 1),
        (D(2020, 3, 31), 1),
        (D(2020, 4, 1), 2),
        (D(2024, 3, 31), 5),
        (D(2024, 4, 1), 6),
        (D(2024, 10, 1), 6),
        (D(2025, 3, 31), 6),
        (D(2117, 4, 1), 99),
    ],
)
def test_fiscal_year_reiwa(day, expected):
    assert fiscal_year_reiwa(day) == expected


def test_fiscal_year_follows_tokyo_date():
    # 2024-03-31 15:00 UTC is already 2024-04-01 in Tokyo.
    assert fiscal_year_reiwa(datetime.datetime(2024, 3, 31, 15, 0, tzinfo=UTC)) == 6
    assert fiscal_year_reiwa(datetime.datetime(2024, 3, 31, 14, 59, tzinfo=UTC)) == 5


def test_fiscal_year_before_reiwa_is_refused():
    with pytest.raises(ValueError, match="令和元年度"):
        fiscal_year_reiwa(D(2019, 3, 31))


@pytest.mark.parametrize("bad", [None, "2024-04-01"])
def test_fiscal_year_refuses_non_dates(bad):
    with pytest.raises(TypeError):
        fiscal_year_reiwa(bad)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (12_345_000, "金12,345,000円"),
        (0, "金0円"),
        (999, "金999円"),
        (1_000, "金1,000円"),
        (1_234_567_890_123, "金1,234,567,890,123円"),
        (Decimal("12345000"), "金12,345,000円"),
        (Decimal("100.00"), "金100円"),  # a DecimalField(decimal_places=2) value, whole yen
        (Decimal("1E+3"), "金1,000円"),
    ],
)
def test_format_yen(amount, expected):
    assert format_yen(amount) == expected


@pytest.mark.parametrize("bad", [1.0, 12345000.0, "12345000", None, True])
def test_format_yen_refuses_other_types(bad):
    with pytest.raises(TypeError):
        format_yen(bad)


@pytest.mark.parametrize(
    "bad", [-1, Decimal("-1"), Decimal("100.5"), Decimal("0.01"), Decimal("NaN"), Decimal("Inf")]
)
def test_format_yen_refuses_fractions_and_negatives(bad):
    with pytest.raises(ValueError, match="yen"):
        format_yen(bad)
