"""和暦 dates, 令和 fiscal years and yen amounts as esure writes them (DESIGN.md §7)."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")

# First day of each era, newest first.
# 令和: 元号を改める政令 (平成31年政令第143号), from 2019-05-01.
# 平成: 元号を改める政令 (昭和64年政令第1号), from 1989-01-08.
# 昭和: 改元の詔書 of 1926-12-25 (大正15年 = 昭和元年 12月25日).
ERAS = (
    (datetime.date(2019, 5, 1), "令和"),
    (datetime.date(1989, 1, 8), "平成"),
    (datetime.date(1926, 12, 25), "昭和"),
)
REIWA_FIRST_FISCAL_YEAR = 2019  # 令和元年度 = 2019-04-01 .. 2020-03-31, see fiscal_year_reiwa()


def _as_date(value) -> datetime.date:
    """A date as is; an aware datetime as its Asia/Tokyo date; a naive datetime as its date."""
    if isinstance(value, datetime.datetime):  # before date: datetime is a subclass of date
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(TOKYO)
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raise TypeError(f"expected a date or datetime, got {type(value).__name__}: {value!r}")


def to_wareki(value) -> str:
    """The date in 和暦, e.g. 令和6年10月1日; the first year of an era is 元年 (令和元年5月1日).

    Era boundaries are in ERAS (with their sources); dates before 昭和 raise ValueError.
    An aware datetime is first converted to its Asia/Tokyo date (TIME_ZONE).
    """
    day = _as_date(value)
    for start, era in ERAS:
        if day >= start:
            year = day.year - start.year + 1
            return f"{era}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    raise ValueError(f"{day.isoformat()} is before 昭和 (1926-12-25): not supported")


def fiscal_year_reiwa(value) -> int:
    """The 令和 fiscal year (年度) of a date: the year of the 1 April that starts it, minus 2018.

    年度 runs from 1 April to 31 March (地方自治法第208条; 財政法第11条 for the state).
    Choice: the whole of FY2019 counts as 令和1, although 2019-04-01..04-30 formally fell in
    平成31年度 — the era changed mid-year and 令和元年度 is the usual name for that year, so
    the 保証契約番号 (DESIGN.md §6) never needs a 平成 year. Earlier dates raise ValueError.
    """
    day = _as_date(value)
    april_year = day.year if day.month >= 4 else day.year - 1
    if april_year < REIWA_FIRST_FISCAL_YEAR:
        raise ValueError(f"{day.isoformat()} is before 令和元年度 (2019-04-01)")
    return april_year - REIWA_FIRST_FISCAL_YEAR + 1


def yen(amount) -> str:
    """Whole yen as pages, messages and admin write it: 12,345,000円 — the one yen formatter.

    Yen has no minor unit: accepts an int or a Decimal without fraction (12345.00 is fine);
    float and other types raise TypeError, a fraction raises ValueError.
    """
    if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
        raise TypeError(f"expected whole yen as int or Decimal, got {type(amount).__name__}")
    if isinstance(amount, Decimal) and (
        not amount.is_finite() or amount != amount.to_integral_value()
    ):
        raise ValueError(f"yen amount must be whole: {amount}")
    return f"{int(amount):,}円"


def format_yen(amount) -> str:
    """Whole yen as printed on certificates: 金12,345,000円 (DESIGN.md §7, STYLE.md): `yen`
    with the 金 that guards a printed amount; a negative amount raises ValueError."""
    text = yen(amount)
    if amount < 0:
        raise ValueError(f"yen amount must not be negative: {amount}")
    return "金" + text
