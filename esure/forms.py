"""Form fields every face types money and dates with (applications, advances, D-Sure, claims):
one implementation each, so a clerk's 12,345,000 or １２，３４５，０００, and 令和8年4月1日 or
R8.4.1, mean the same everywhere."""

import datetime
import re
import unicodedata

from django import forms

from esure.wareki import DateTextError, parse_date

MSG_AMOUNT_FORMAT = "金額は数字で入力してください（例: 12,345,000）。"
MSG_AMOUNT_RANGE = "金額は1円以上、1兆円未満で入力してください。"
MSG_AMOUNT_RANGE_ZERO = "金額は0円以上、1兆円未満で入力してください。"
# An upper bound well above any public work (and within PostgreSQL's bigint).
MAX_AMOUNT = 999_999_999_999


class YenField(forms.CharField):
    """An amount in whole yen, typed as 12,345,000, １２，３４５，０００ or 12345000; 0 only
    with allow_zero (a sum that may be nothing, e.g. 出来形払 not yet paid)."""

    widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})

    def __init__(self, *, allow_zero=False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def to_python(self, value):
        text = unicodedata.normalize("NFKC", super().to_python(value) or "")
        text = re.sub(r"[\s,、円]", "", text)
        if not text:
            return None
        if not text.isdigit() or not text.isascii():
            raise forms.ValidationError(MSG_AMOUNT_FORMAT, code="format")
        # Count the digits before int(): Python refuses more than 4,300 (a ValueError, i.e. a
        # 500) and converting a long run costs time quadratic in its length.
        digits = text.lstrip("0")
        message = MSG_AMOUNT_RANGE_ZERO if self.allow_zero else MSG_AMOUNT_RANGE
        if len(digits) > len(str(MAX_AMOUNT)):
            raise forms.ValidationError(message, code="range")
        amount = int(digits or "0")
        if (amount == 0 and not self.allow_zero) or amount > MAX_AMOUNT:
            raise forms.ValidationError(message, code="range")
        return amount

    def prepare_value(self, value):
        return f"{value:,}" if isinstance(value, int) else value


class DateInput(forms.DateInput):
    input_type = "date"

    def format_value(self, value):
        return value.isoformat() if hasattr(value, "isoformat") else value


# What a date field takes (esure.wareki.parse_date), shown under each one.
HELP_DAY = "例: 令和8年4月1日、R8.4.1、2026-04-01、2026/4/1（全角でも入力できます）"


class DayField(forms.DateField):
    """A business date as people type it from paper: 和暦 (令和8年4月1日, 令和元年5月1日,
    R8.4.1) or Gregorian (2026-04-01, 2026/4/1), full or half width — read by the one parser,
    esure.wareki.parse_date, whose message says what is wrong (平成31年5月1日: 平成 ended).
    A text box, not the browser's date picker, so what was typed is shown back on error."""

    widget = forms.TextInput(attrs={"autocomplete": "off"})

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", HELP_DAY)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if not str(value).strip():
            return None
        try:
            return parse_date(value)
        except DateTextError as error:
            raise forms.ValidationError(str(error), code="invalid") from None
