"""保証契約番号: YY K NNNNNNN C with a Damm check digit (DESIGN.md §6)."""

import itertools
import random

import pytest

from certificates.numbering import (
    DAMM_TABLE,
    KIND_DIGITS,
    ParsedNumber,
    damm_check_digit,
    damm_is_valid,
    format_number,
    make_number,
    parse_number,
)
from esure.choices import GuaranteeKind

SAMPLE = 1_000


def random_prefixes(count=SAMPLE, seed=20241001):
    rng = random.Random(seed)
    return ["".join(rng.choice("0123456789") for _ in range(10)) for _ in range(count)]


def luhn_is_valid(digits):
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def test_damm_reference_values():
    # Wikipedia "Damm algorithm": 572 → check digit 4, and 5724 validates.
    assert damm_check_digit("572") == 4
    assert damm_is_valid("5724")
    assert not damm_is_valid("5723")


def test_damm_table_is_a_weakly_totally_anti_symmetric_quasigroup():
    digits = range(10)
    assert all(sorted(row) == list(digits) for row in DAMM_TABLE)
    assert all(sorted(DAMM_TABLE[r][c] for r in digits) == list(digits) for c in digits)
    assert all(DAMM_TABLE[i][i] == 0 for i in digits)
    for c, x, y in itertools.product(digits, repeat=3):
        if x != y:
            assert DAMM_TABLE[DAMM_TABLE[c][x]][y] != DAMM_TABLE[DAMM_TABLE[c][y]][x]


def test_every_single_digit_error_is_detected():
    for prefix in random_prefixes():
        number = prefix + str(damm_check_digit(prefix))
        assert damm_is_valid(number)
        for pos, wrong in itertools.product(range(11), "0123456789"):
            if wrong != number[pos]:
                typo = number[:pos] + wrong + number[pos + 1 :]
                assert not damm_is_valid(typo), (number, typo)


def test_every_adjacent_transposition_is_detected():
    for prefix in random_prefixes():
        number = prefix + str(damm_check_digit(prefix))
        for pos in range(10):
            a, b = number[pos], number[pos + 1]
            if a != b:
                swapped = number[:pos] + b + a + number[pos + 2 :]
                assert not damm_is_valid(swapped), (number, swapped)


def test_zero_nine_transposition_caught_where_luhn_misses_it():
    prefix = "0610009000"
    number = prefix + str(damm_check_digit(prefix))
    swapped = number.replace("09", "90", 1)
    assert damm_is_valid(number) and not damm_is_valid(swapped)
    # Luhn, for contrast: 09 and 90 contribute the same sum in either position.
    luhn = "0610009000" + next(d for d in "0123456789" if luhn_is_valid("0610009000" + d))
    assert luhn_is_valid(luhn) and luhn_is_valid(luhn.replace("09", "90", 1))


@pytest.mark.parametrize("bad", ["", "12a", "１２３", "1 2", None])
def test_check_digit_needs_ascii_digits(bad):
    with pytest.raises(ValueError):
        damm_check_digit(bad)
    assert damm_is_valid(bad) is False


def test_make_number():
    assert make_number(6, GuaranteeKind.ADVANCE, 1234) == "06100012349"
    assert make_number(6, GuaranteeKind.CONTRACT, 1)[:10] == "0620000001"
    assert make_number(99, GuaranteeKind.INTERMEDIATE, 9_999_999)[:10] == "9939999999"
    assert make_number(6, "advance", 1234) == "06100012349"  # the stored choice value works too
    assert KIND_DIGITS == {
        GuaranteeKind.ADVANCE: 1,
        GuaranteeKind.CONTRACT: 2,
        GuaranteeKind.INTERMEDIATE: 3,
    }


@pytest.mark.parametrize(
    ("fiscal_year", "kind", "serial"),
    [
        (0, GuaranteeKind.ADVANCE, 1),
        (100, GuaranteeKind.ADVANCE, 1),
        (6, GuaranteeKind.ADVANCE, 0),
        (6, GuaranteeKind.ADVANCE, 10_000_000),
        (6, GuaranteeKind.ADVANCE, -1),
        (6, "reservation", 1),  # 契約保証予約 is never electronic
        (6, GuaranteeKind.ADVANCE, "1"),
        (6, GuaranteeKind.ADVANCE, True),
        ("06", GuaranteeKind.ADVANCE, 1),
    ],
)
def test_make_number_refuses_out_of_range(fiscal_year, kind, serial):
    with pytest.raises(ValueError):
        make_number(fiscal_year, kind, serial)


def test_format_number():
    assert format_number("06100012349") == "06-1-0001234-9"
    for bad in ["0610001234", "061000123490", "06-1-0001234-9", "０６１０００１２３４９"]:
        with pytest.raises(ValueError):
            format_number(bad)


def test_format_parse_round_trip():
    rng = random.Random(6)
    for _ in range(SAMPLE):
        fy, kind, serial = (
            rng.randint(1, 99),
            rng.choice(list(KIND_DIGITS)),
            rng.randint(1, 9_999_999),
        )
        number = make_number(fy, kind, serial)
        parsed = parse_number(format_number(number))
        assert parsed == ParsedNumber(number, fy, kind, serial)
        assert parse_number(number) == parsed


@pytest.mark.parametrize(
    "typed",
    [
        "06-1-0001234-9",
        "06100012349",
        "０６－１－０００１２３４－９",
        "０６ー１ー０００１２３４ー９",
        "06ｰ1ｰ0001234ｰ9",
        "06−1−0001234−9",
        "06—1–0001234‐9",
        " 06 1 0001234 9 ",
        "06\u30001\u30000001234\u30009",
    ],
)
def test_typed_variants_parse(typed):
    assert parse_number(typed) == ParsedNumber("06100012349", 6, GuaranteeKind.ADVANCE, 1234)


def test_parsed_number_is_frozen():
    parsed = parse_number("06-1-0001234-9")
    with pytest.raises(AttributeError):
        parsed.serial = 1


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "06-1-0001234",  # check digit missing
        "06-1-0001234-99",  # too long
        "06-1-0001234-8",  # check digit fails
        "06-1-0001243-9",  # transposition
        "O6-1-OOO1234-9",  # letters are not guessed for digits in numbers
        "0640001234" + str(damm_check_digit("0640001234")),  # kind 4
        "0600001234" + str(damm_check_digit("0600001234")),  # kind 0
        "0010001234" + str(damm_check_digit("0010001234")),  # fiscal year 00
        "0610000000" + str(damm_check_digit("0610000000")),  # serial 0
        "㍻",
    ],
)
def test_unparseable_numbers_are_none(typed):
    assert parse_number(typed) is None
