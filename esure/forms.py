"""Form fields every face types money and dates with (applications, advances): one
implementation each, so a clerk's 12,345,000 or １２，３４５，０００ means the same everywhere."""

import re
import unicodedata

from django import forms

MSG_AMOUNT_FORMAT = "金額は数字で入力してください（例: 12,345,000）。"
MSG_AMOUNT_RANGE = "金額は1円以上、1兆円未満で入力してください。"
# An upper bound well above any public work (and within PostgreSQL's bigint).
MAX_AMOUNT = 999_999_999_999


class YenField(forms.CharField):
    """An amount in whole yen, typed as 12,345,000, １２，３４５，０００ or 12345000."""

    widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})

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
        if len(digits) > len(str(MAX_AMOUNT)):
            raise forms.ValidationError(MSG_AMOUNT_RANGE, code="range")
        amount = int(digits or "0")
        if amount == 0 or amount > MAX_AMOUNT:
            raise forms.ValidationError(MSG_AMOUNT_RANGE, code="range")
        return amount

    def prepare_value(self, value):
        return f"{value:,}" if isinstance(value, int) else value


class DateInput(forms.DateInput):
    input_type = "date"

    def format_value(self, value):
        return value.isoformat() if hasattr(value, "isoformat") else value
