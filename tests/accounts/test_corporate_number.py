"""Identifiers a contractor types: 法人番号 (check digit), 郵便番号, 電話番号, 建設業許可番号.

Pure functions, no database: the form and the view use exactly these cleaners.
"""

import pytest
from django.core.exceptions import ValidationError

from accounts.validators import (
    MSG_CORPORATE_NUMBER_CHECK,
    MSG_CORPORATE_NUMBER_FORMAT,
    MSG_LICENSE,
    MSG_PHONE,
    MSG_POSTAL_CODE,
    clean_corporate_number,
    clean_license_number,
    clean_phone,
    clean_postal_code,
    corporate_number_check_digit,
)

# Published 法人番号 (国税庁 法人番号公表サイト): their check digits are right by definition.
REAL_CORPORATE_NUMBERS = [
    "7000012050002",  # 国税庁
    "1180301018771",  # トヨタ自動車株式会社
    "5010401067252",  # ソニーグループ株式会社
]


def _rejected(cleaner, value):
    with pytest.raises(ValidationError) as caught:
        cleaner(value)
    return caught.value


@pytest.mark.parametrize("number", REAL_CORPORATE_NUMBERS)
def test_published_corporate_numbers_are_valid(number):
    assert clean_corporate_number(number) == number


def test_check_digit_of_the_national_tax_agency_is_7():
    assert corporate_number_check_digit("000012050002") == 7


def test_check_digit_is_9_when_the_weighted_sum_is_a_multiple_of_9():
    # 9 - (0 mod 9) = 9: the check digit is never 0.
    assert corporate_number_check_digit("000000000000") == 9
    assert clean_corporate_number("9000000000000") == "9000000000000"


@pytest.mark.parametrize(
    "base", ["000012050002", "180301018771", "010401067252", "123456789012", "999999999999"]
)
def test_every_wrong_check_digit_is_rejected(base):
    accepted = []
    for digit in "0123456789":
        try:
            clean_corporate_number(digit + base)
        except ValidationError as error:
            assert error.messages == [MSG_CORPORATE_NUMBER_CHECK]
        else:
            accepted.append(digit)
    # Exactly one of the ten leading digits is right, and it is the computed one.
    assert accepted == [str(corporate_number_check_digit(base))]


@pytest.mark.parametrize(
    "typo",
    [
        "7000012050003",  # last digit mistyped
        "7000012500002",  # adjacent digits swapped (05 → 50)
        "7000021050002",  # adjacent digits swapped (12 → 21)
    ],
)
def test_typical_typos_of_a_real_number_fail_the_check(typo):
    assert _rejected(clean_corporate_number, typo).messages == [MSG_CORPORATE_NUMBER_CHECK]


@pytest.mark.parametrize(
    "value",
    ["700001205000", "70000120500021", "", "7", "７００００１２０５０００"],
    ids=["12-digits", "14-digits", "empty", "1-digit", "12-full-width"],
)
def test_wrong_length_is_rejected_with_the_format_message(value):
    error = _rejected(clean_corporate_number, value)
    assert error.messages == [MSG_CORPORATE_NUMBER_FORMAT]
    assert error.code == "format"


@pytest.mark.parametrize(
    "value",
    [
        "７００００１２０５０００２",  # full-width digits
        "7000-0120-50002",  # ASCII hyphens
        "7-0000-1205-0002",
        "７０００－０１２０－５０００２",  # full-width hyphen-minus
        "7000−0120−50002",  # U+2212 minus sign (NFKC keeps it)
        "7000ー0120ー50002",  # long-vowel mark typed for a dash
        "7000ｰ0120ｰ50002",  # half-width long-vowel mark
        "7000‐0120‐50002",  # U+2010 hyphen
        "7000–0120—50002",  # en dash and em dash
        " 7000 0120 50002 ",  # spaces
        "7000\u30000120\u300050002",  # ideographic (full-width) spaces
    ],
)
def test_full_width_and_dashes_are_accepted_and_normalised(value):
    assert clean_corporate_number(value) == "7000012050002"


@pytest.mark.parametrize(
    "value",
    [
        "700001205000A",
        "7000O12050002",  # letter O for zero
        "7000.0120.50002",
        "7000/0120/50002",
        "七〇〇〇〇一二〇五〇〇〇二",  # kanji numerals
        "٧٠٠٠٠١٢٠٥٠٠٠٢",  # Arabic-Indic digits: digits to Python, not to the database
    ],
    ids=["letter", "letter-O", "dots", "slashes", "kanji", "arabic-indic"],
)
def test_non_digits_are_rejected(value):
    assert _rejected(clean_corporate_number, value).messages == [MSG_CORPORATE_NUMBER_FORMAT]


# 郵便番号 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "879-2435",
        "8792435",
        "〒879-2435",
        "８７９－２４３５",
        "〒８７９２４３５",
        " 879 2435 ",
        "879ー2435",
    ],
)
def test_postal_code_is_normalised_to_nnn_nnnn(value):
    assert clean_postal_code(value) == "879-2435"


@pytest.mark.parametrize(
    "value",
    ["879-243", "879-24351", "", "ABC-DEFG", "879_2435", "٨٧٩٢٤٣٥"],
    ids=["6-digits", "8-digits", "empty", "letters", "underscore", "arabic-indic"],
)
def test_bad_postal_code_is_rejected(value):
    assert _rejected(clean_postal_code, value).messages == [MSG_POSTAL_CODE]


# 電話番号 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0972-82-9511", "0972-82-9511"),
        ("0972829511", "0972829511"),
        ("090-1234-5678", "090-1234-5678"),
        ("０９７２－８２－９５１１", "0972-82-9511"),
        ("0972ー82ー9511", "0972-82-9511"),
        ("0972−82−9511", "0972-82-9511"),
        ("0972 82 9511", "0972829511"),
        ("03-1234-5678", "03-1234-5678"),
    ],
)
def test_phone_accepts_full_width_and_any_dash(value, expected):
    assert clean_phone(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "972-82-9511",  # no leading 0
        "0972-82-951",  # 9 digits
        "090-1234-56789",  # 12 digits
        "0972-82-9511 内線12",
        "",
        "電話番号",
        "٠٩٧٢-٨٢-٩٥١١",  # Arabic-Indic digits
    ],
    ids=["no-leading-0", "9-digits", "12-digits", "extension", "empty", "words", "arabic-indic"],
)
def test_bad_phone_is_rejected(value):
    assert _rejected(clean_phone, value).messages == [MSG_PHONE]


# 建設業許可番号 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("大分県知事許可(般-6)第12345号", "大分県知事許可(般-6)第12345号"),
        ("国土交通大臣許可(特-3)第1234号", "国土交通大臣許可(特-3)第1234号"),
        ("北海道知事許可(般-5)第123号", "北海道知事許可(般-5)第123号"),
        ("東京都知事許可(特-4)第123456号", "東京都知事許可(特-4)第123456号"),
        ("大分県知事許可（般－６）第１２３４５号", "大分県知事許可(般-6)第12345号"),
        ("大分県知事許可(般ー6)第12345号", "大分県知事許可(般-6)第12345号"),
        ("大分県知事 許可 (般-6) 第12345号", "大分県知事許可(般-6)第12345号"),
    ],
)
def test_license_number_is_accepted_and_stored_canonical(value, expected):
    assert clean_license_number(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "12345",
        "大分県知事許可(般-6)第1234567号",  # 7-digit serial
        "大分県知事許可(普-6)第12345号",  # neither 般 nor 特
        "大分県知事許可(般-123)第12345号",  # 3-digit year
        "大分県許可(般-6)第12345号",  # no 知事
        "大分県知事許可(般-6)12345",
        "",
    ],
)
def test_bad_license_number_is_rejected(value):
    assert _rejected(clean_license_number, value).messages == [MSG_LICENSE]
