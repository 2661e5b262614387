"""和暦 dates, 令和 fiscal years and yen amounts as esure writes them (DESIGN.md §7), and the
dates people type from paper (parse_date: 和暦 or Gregorian, full or half width)."""

import datetime
import re
import unicodedata
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


# --- Reading a typed date ------------------------------------------------------------------

# The eras a typed business date may name, and the letter clerks write for them (R8.4.1):
# contracts, completions, claims and refunds are 平成 at the earliest. Their first days are
# in ERAS; an era ends the day before the next one starts (平成: to 2019-04-30).
TYPED_ERAS = {"令和": "R", "平成": "H"}
# Older eras, read only to say that they are not taken.
OLD_ERAS = {"昭和": "S", "大正": "T", "明治": "M"}

MSG_DATE_FORMAT = (
    "日付は「令和8年4月1日」「R8.4.1」「2026-04-01」「2026/4/1」のいずれかの形で入力してください。"
)
MSG_DATE_NO_SUCH_DAY = "{text} という日付はありません。"
MSG_ERA_YEAR_ZERO = "{era}0年はありません（最初の年は{era}元年です）。"
MSG_ERA_NOT_STARTED = "{era}は{first}からです。"
MSG_ERA_ENDED = "{era}は{last}までです。{next_first}からは{next}で入力してください。"
MSG_ERA_UNSUPPORTED = "和暦は平成と令和の日付を入力できます。"

_LETTERS = {letter: era for era, letter in (TYPED_ERAS | OLD_ERAS).items()}
_SEP = "[-/.‐−ー]"  # after NFKC: full-width －／． are plain; ‐ − ー are not
# 4月1日 (日 may be left out) or .4.1 /4/1 -4-1
_MONTH_DAY = (
    "(?:年(?P<m1>[0-9]{1,2})月(?P<d1>[0-9]{1,2})日?"
    f"|{_SEP}(?P<m2>[0-9]{{1,2}}){_SEP}(?P<d2>[0-9]{{1,2}}))"
)
_ERA = "|".join([*TYPED_ERAS, *OLD_ERAS, *_LETTERS])
_WAREKI = re.compile(f"(?P<era>{_ERA})(?P<year>元|[0-9]{{1,2}})" + _MONTH_DAY)
# 2026年4月1日, 2026-04-01, 2026/4/1, 2026.4.1, or 20260401
_GREGORIAN = re.compile("(?P<year>[0-9]{4})(?:" + _MONTH_DAY + "|(?P<m3>[0-9]{2})(?P<d3>[0-9]{2}))")


class DateTextError(ValueError):
    """A typed date that is not one; str() is the message for the person who typed it."""


def _era_days(era):
    """(first day, last day or None while it lasts) of an era in ERAS."""
    names = [name for _, name in ERAS]
    index = names.index(era)
    last = ERAS[index - 1][0] - datetime.timedelta(days=1) if index else None
    return ERAS[index][0], last


def parse_date(text) -> datetime.date:
    """The date a clerk typed from paper: 令和8年4月1日, 令和元年5月1日, R8.4.1, H31.4.30,
    2026-04-01, 2026/4/1, 2026年4月1日 or 20260401, in full or half width, spaces anywhere.

    和暦 is read for 平成 and 令和 only (TYPED_ERAS), within the era's days: 令和0年,
    令和元年4月30日 (before 令和) and 平成31年5月1日 (after 平成) are refused, each with a
    message that says why. Raises DateTextError (a ValueError) with the Japanese message.
    """
    # NFKC turns full-width digits, letters and punctuation (and ㋿, ㍻) into plain ones; a
    # date has no free text for it to spoil.
    plain = re.sub(r"\s", "", unicodedata.normalize("NFKC", str(text))).upper()
    era = None
    if match := _WAREKI.fullmatch(plain):
        era = _LETTERS.get(match["era"], match["era"])
        if era in OLD_ERAS:
            raise DateTextError(MSG_ERA_UNSUPPORTED)
        year_of_era = 1 if match["year"] == "元" else int(match["year"])
        if year_of_era == 0:
            raise DateTextError(MSG_ERA_YEAR_ZERO.format(era=era))
        first, last = _era_days(era)
        year = first.year + year_of_era - 1
    elif match := _GREGORIAN.fullmatch(plain):
        year = int(match["year"])
    else:
        raise DateTextError(MSG_DATE_FORMAT)
    parts = match.groupdict()
    month = parts["m1"] or parts["m2"] or parts.get("m3")
    day_of_month = parts["d1"] or parts["d2"] or parts.get("d3")
    try:
        day = datetime.date(year, int(month), int(day_of_month))
    except ValueError:
        raise DateTextError(MSG_DATE_NO_SUCH_DAY.format(text=str(text).strip())) from None
    if era is not None and day < first:
        raise DateTextError(MSG_ERA_NOT_STARTED.format(era=era, first=to_wareki(first)))
    if era is not None and last is not None and day > last:
        following = last + datetime.timedelta(days=1)
        raise DateTextError(
            MSG_ERA_ENDED.format(
                era=era,
                last=to_wareki(last),
                next_first=to_wareki(following),
                next=to_wareki(following)[:2],
            )
        )
    return day
