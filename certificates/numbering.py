"""保証契約番号: 11 digits YY K NNNNNNN C, printed YY-K-NNNNNNN-C (DESIGN.md §6).

YY = 令和 fiscal year (esure.wareki.fiscal_year_reiwa), K = kind digit, NNNNNNN = the serial
per year and kind (allocated from a locked counter row by the issuing service, not here),
C = Damm check digit over the first 10 digits. Pure functions only.
"""

import re
from dataclasses import dataclass

from esure.choices import GuaranteeKind
from esure.identifiers import normalize_number

KIND_DIGITS = {GuaranteeKind.ADVANCE: 1, GuaranteeKind.CONTRACT: 2, GuaranteeKind.INTERMEDIATE: 3}
DIGIT_KINDS = {digit: kind for kind, digit in KIND_DIGITS.items()}
MAX_FISCAL_YEAR = 99  # two digits: 令和99年度
MAX_SERIAL = 9_999_999  # seven digits

# The Damm quasigroup of order 10 (H. M. Damm, "Totally anti-symmetric quasigroups for all
# orders n ≠ 2, 6", Discrete Mathematics 307 (2007) 715-729; the table of Wikipedia's
# "Damm algorithm"). Weakly totally anti-symmetric with a zero diagonal: it detects every
# single-digit error and every adjacent transposition — Luhn misses 09↔90.
DAMM_TABLE = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

_DIGITS = re.compile(r"[0-9]+")
# The stored form: 11 ASCII digits (the URL converter esure.converters uses it too).
NUMBER_REGEX = "[0-9]{11}"


@dataclass(frozen=True)
class ParsedNumber:
    number: str  # the 11 digits
    fiscal_year: int  # 令和 fiscal year, 1..99
    kind: GuaranteeKind
    serial: int  # 1..9,999,999


def _damm_interim(digits: str) -> int:
    interim = 0
    for digit in digits:
        interim = DAMM_TABLE[interim][int(digit)]
    return interim


def damm_check_digit(digits: str) -> int:
    """The Damm check digit of a string of ASCII digits (the interim digit after the last)."""
    if not isinstance(digits, str) or not _DIGITS.fullmatch(digits):
        raise ValueError(f"expected ASCII digits, got {digits!r}")
    return _damm_interim(digits)


def damm_is_valid(digits: str) -> bool:
    """True when digits (check digit last) run through the Damm table to 0."""
    return isinstance(digits, str) and bool(_DIGITS.fullmatch(digits)) and not _damm_interim(digits)


def _is_int_in(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def make_number(fiscal_year: int, kind, serial: int) -> str:
    """The 11-digit 保証契約番号 for a 令和 fiscal year (1..99), a GuaranteeKind and a serial
    (1..9,999,999). Raises ValueError for anything out of range."""
    if kind not in KIND_DIGITS:
        raise ValueError(f"unknown guarantee kind: {kind!r}")
    if not _is_int_in(fiscal_year, 1, MAX_FISCAL_YEAR):
        raise ValueError(f"fiscal_year must be an int in 1..{MAX_FISCAL_YEAR}: {fiscal_year!r}")
    if not _is_int_in(serial, 1, MAX_SERIAL):
        raise ValueError(f"serial must be an int in 1..{MAX_SERIAL}: {serial!r}")
    body = f"{fiscal_year:02d}{KIND_DIGITS[kind]}{serial:07d}"
    return f"{body}{damm_check_digit(body)}"


def is_stored_form(number) -> bool:
    """Whether `number` has the shape of a stored number (11 ASCII digits); says nothing of
    its check digit. Lets a lookup answer "not found" without a query for anything else."""
    return isinstance(number, str) and re.fullmatch(NUMBER_REGEX, number) is not None


def format_number(number: str) -> str:
    """The printed form YY-K-NNNNNNN-C of an 11-digit number, e.g. 06-1-0001234-9."""
    if not is_stored_form(number):
        raise ValueError(f"expected 11 ASCII digits, got {number!r}")
    return f"{number[:2]}-{number[2]}-{number[3:10]}-{number[10]}"


def parse_number(text: str) -> ParsedNumber | None:
    """A typed number (full-width, spaces, any dash accepted) as ParsedNumber, or None when it
    is not 11 digits, its check digit fails, or its year, kind or serial cannot be issued."""
    number = normalize_number(text)
    if not is_stored_form(number) or not damm_is_valid(number):
        return None
    fiscal_year, kind_digit, serial = int(number[:2]), int(number[2]), int(number[3:10])
    if fiscal_year == 0 or serial == 0 or kind_digit not in DIGIT_KINDS:
        return None
    return ParsedNumber(number, fiscal_year, DIGIT_KINDS[kind_digit], serial)
