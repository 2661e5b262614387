"""Checks for identifiers typed by contractors (法人番号, 郵便番号, 電話, 建設業許可番号)."""

import re
import unicodedata
from decimal import Decimal

from allauth.mfa.models import Authenticator
from django.core.exceptions import ValidationError

MSG_CORPORATE_NUMBER_FORMAT = "法人番号は13桁の数字で入力してください。"
MSG_CORPORATE_NUMBER_CHECK = (
    "法人番号の検査用数字が一致しません。入力に誤りがないかご確認ください。"
)
MSG_POSTAL_CODE = "郵便番号は7桁の数字で入力してください（例: 879-2435）。"
MSG_PHONE = "電話番号は数字とハイフンで入力してください（例: 0972-82-9511）。"
MSG_LICENSE = "建設業許可番号は「大分県知事許可(般-6)第12345号」の形で入力してください。"

_DASHES = "-‐‑‒–—―−ー－ｰ"


def normalize_digits(value: str) -> str:
    """Full-width digits to ASCII, spaces and every dash-like character dropped.

    For identifiers only (DESIGN.md §6): NFKC would also rewrite free text such as ㍻.
    """
    value = unicodedata.normalize("NFKC", value or "")
    return "".join(ch for ch in value if not ch.isspace() and ch not in _DASHES)


def corporate_number_check_digit(base12: str) -> int:
    """The 法人番号 check digit over its last 12 digits (国税庁「法人番号の指定」, 検査用数字).

    With P(n) the n-th digit counted from the right of the 12 and Q(n) = 1 for odd n,
    2 for even n: check = 9 - (Σ P(n)·Q(n) mod 9).
    """
    total = sum(int(d) * (2 if n % 2 == 0 else 1) for n, d in enumerate(reversed(base12), 1))
    return 9 - total % 9


def clean_corporate_number(value: str) -> str:
    digits = normalize_digits(value)
    if not re.fullmatch(r"[0-9]{13}", digits):
        raise ValidationError(MSG_CORPORATE_NUMBER_FORMAT, code="format")
    if int(digits[0]) != corporate_number_check_digit(digits[1:]):
        raise ValidationError(MSG_CORPORATE_NUMBER_CHECK, code="check_digit")
    return digits


# 共同企業体: the members' 出資比率 (percent, one decimal) add up to exactly 100 — the JV
# agreement (協定書) divides the whole contract; 99.9 or 100.1 is a typing error.
SHARE_TOTAL = 100
MSG_SHARES_TOTAL = "出資比率の合計が100%になるように入力してください（現在の合計 {total}%）。"


def check_share_total(shares):
    """None when the shares (Decimals) add up to exactly 100, else the message."""
    total = sum(shares, Decimal(0))
    if total != SHARE_TOTAL:
        return MSG_SHARES_TOTAL.format(total=total.quantize(Decimal("0.1")))
    return None


def clean_postal_code(value: str) -> str:
    digits = normalize_digits(value).lstrip("〒")
    if not re.fullmatch(r"[0-9]{7}", digits):
        raise ValidationError(MSG_POSTAL_CODE, code="format")
    return f"{digits[:3]}-{digits[3:]}"


def clean_phone(value: str) -> str:
    text = unicodedata.normalize("NFKC", value or "").strip()
    text = re.sub(f"[{_DASHES}]", "-", text).replace(" ", "")
    digits = text.replace("-", "")
    if not re.fullmatch(r"0[0-9]{1,4}-?[0-9]{1,4}-?[0-9]{3,4}", text) or len(digits) not in (
        10,
        11,
    ):
        raise ValidationError(MSG_PHONE, code="format")
    return text


_LICENSE_RE = re.compile(
    r"(国土交通大臣|[^\s()（）]{2,4}[都道府県]知事)許可\((般|特)-([0-9]{1,2})\)第([0-9]{1,6})号"
)


def clean_license_number(value: str) -> str:
    """建設業許可番号, e.g. 大分県知事許可(般-6)第12345号 (許可者, 般/特, 年度, 番号)."""
    text = unicodedata.normalize("NFKC", value or "").replace(" ", "")
    text = re.sub(f"[{_DASHES}]", "-", text)
    if not _LICENSE_RE.fullmatch(text):
        raise ValidationError(MSG_LICENSE, code="format")
    return text


# NIST SP 800-63B-4 §3.1.1.2: a password used alone (single-factor) is at least 15
# characters; one used with a second factor at least 8 (Django's MinimumLengthValidator).
MIN_LENGTH_WITHOUT_SECOND_FACTOR = 15
MSG_PASSWORD_TOO_SHORT = (
    "パスワードは15文字以上にしてください（二段階認証を設定していないアカウントの場合）。"  # noqa: S105
)


class SingleFactorPasswordLengthValidator:
    """Passwords of accounts without a second factor (TOTP) are at least 15 characters.

    A new account (sign-up, invitation) has no second factor yet, so it needs 15; an account
    with TOTP (all staff, bank users) keeps Django's minimum of 8."""

    def __init__(self, min_length=MIN_LENGTH_WITHOUT_SECOND_FACTOR):
        self.min_length = min_length

    def validate(self, password, user=None):
        if len(password) >= self.min_length or _has_second_factor(user):
            return
        raise ValidationError(MSG_PASSWORD_TOO_SHORT, code="password_too_short")

    def get_help_text(self):
        return "二段階認証を設定していない場合、パスワードは15文字以上にしてください。"


def _has_second_factor(user):
    if user is None or user.pk is None:
        return False
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
