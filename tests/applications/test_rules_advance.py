"""前払金: 4割 (工事) / 3割 (設計・調査・測量), 10万円切捨て, local minimums (DESIGN.md §5.1)."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Orderer
from applications.rules import (
    MSG_ADVANCE_OVER_MAX,
    MSG_ADVANCE_PERIOD_TOO_SHORT,
    MSG_ADVANCE_PRICE_TOO_LOW,
    MSG_AMOUNT_NOT_POSITIVE,
    MSG_PRICE_NOT_POSITIVE,
    check_advance,
    max_advance,
    round_down_to_100k,
    work_period_days,
)
from esure.choices import WorkCategory

WORK = WorkCategory.CONSTRUCTION
CONSULTING = WorkCategory.CONSULTING

# The real model, unsaved: its defaults are the policy (40% / 30%, 130万円, 60日).
TSUKUMI = Orderer(name="津久見市", prefecture="大分県", electronic_since=datetime.date(2024, 10, 1))


def check(amount, price, *, category=WORK, period_days=120, orderer=TSUKUMI):
    return check_advance(
        amount=amount, price=price, category=category, period_days=period_days, orderer=orderer
    )


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, 0),
        (99_999, 0),
        (100_000, 100_000),
        (199_999, 100_000),
        (4_938_000, 4_900_000),
        (5_000_000, 5_000_000),
    ],
)
def test_round_down_to_100k(amount, expected):
    assert round_down_to_100k(amount) == expected


def test_max_advance_example_from_the_brief():
    # 12,345,000 × 40% = 4,938,000 → 4,900,000
    assert max_advance(12_345_000, WORK, TSUKUMI) == 4_900_000


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (12_499_999, 4_900_000),  # 4,999,999.6 → 4,900,000
        (12_500_000, 5_000_000),  # exactly 40% is already a whole 10万円
        (12_500_001, 5_000_000),
        (12_750_000, 5_100_000),
    ],
)
def test_max_advance_construction_at_the_rounding_edge(price, expected):
    assert max_advance(price, WORK, TSUKUMI) == expected


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (9_999_999, 2_900_000),  # 2,999,999.7 → 2,900,000
        (10_000_000, 3_000_000),  # exactly 30%
        (10_333_333, 3_000_000),
        (10_333_334, 3_100_000),  # 3,100,000.2
    ],
)
def test_max_advance_consulting_is_30_percent(price, expected):
    assert max_advance(price, CONSULTING, TSUKUMI) == expected


def test_max_advance_follows_the_orderers_ratio():
    stricter = Orderer(name="甲市", advance_ratio_construction=30)
    assert max_advance(12_500_000, WORK, stricter) == 3_700_000


def test_max_advance_refuses_an_unknown_category():
    with pytest.raises(ValueError):
        max_advance(12_500_000, "repair", TSUKUMI)


@given(price=st.integers(min_value=1, max_value=10**10))
def test_max_advance_is_the_largest_100k_multiple_within_40_percent(price):
    advance = max_advance(price, WORK, TSUKUMI)
    assert advance % 100_000 == 0
    assert 100 * advance <= 40 * price
    assert 100 * (advance + 100_000) > 40 * price


def test_amount_at_the_limit_is_accepted():
    assert check(5_000_000, 12_500_000) == []
    assert check(4_900_000, 12_499_999) == []


def test_amount_over_the_limit_is_refused_with_the_limit():
    message = MSG_ADVANCE_OVER_MAX.format(ratio=40, max="4,900,000円")
    assert check(5_000_000, 12_499_999) == [message]
    assert check(5_000_001, 12_500_000) == [
        MSG_ADVANCE_OVER_MAX.format(ratio=40, max="5,000,000円")
    ]
    assert "4,900,000円" in message


def test_consulting_limit_is_30_percent():
    assert check(3_000_000, 10_000_000, category=CONSULTING) == []
    assert check(3_000_001, 10_000_000, category=CONSULTING) == [
        MSG_ADVANCE_OVER_MAX.format(ratio=30, max="3,000,000円")
    ]


@pytest.mark.parametrize("amount", [0, -100_000])
def test_amount_must_be_positive(amount):
    assert check(amount, 12_500_000) == [MSG_AMOUNT_NOT_POSITIVE]


def test_price_must_be_positive():
    assert check(100_000, 0) == [MSG_PRICE_NOT_POSITIVE]


@pytest.mark.parametrize(
    ("price", "ok"), [(1_299_999, False), (1_300_000, True), (1_300_001, True)]
)
def test_minimum_contract_amount_130man(price, ok):
    errors = check(100_000, price)
    assert errors == ([] if ok else [MSG_ADVANCE_PRICE_TOO_LOW.format(min="1,300,000円")])


def test_minimum_contract_amount_is_local():
    other = Orderer(name="乙市", min_advance_contract_amount=3_000_000)
    assert check(1_000_000, 2_999_999, orderer=other) == [
        MSG_ADVANCE_PRICE_TOO_LOW.format(min="3,000,000円")
    ]
    assert check(1_000_000, 3_000_000, orderer=other) == []


@pytest.mark.parametrize(("days", "ok"), [(59, False), (60, True), (61, True)])
def test_minimum_period_60_days(days, ok):
    errors = check(1_000_000, 12_500_000, period_days=days)
    expected = [] if ok else [MSG_ADVANCE_PERIOD_TOO_SHORT.format(min_days=60, days=59)]
    assert errors == expected


def test_all_problems_are_reported_together():
    errors = check(600_000, 1_299_999, period_days=10)
    assert errors == [
        MSG_ADVANCE_OVER_MAX.format(ratio=40, max="500,000円"),
        MSG_ADVANCE_PRICE_TOO_LOW.format(min="1,300,000円"),
        MSG_ADVANCE_PERIOD_TOO_SHORT.format(min_days=60, days=10),
    ]


def test_work_period_counts_both_ends():
    assert work_period_days(datetime.date(2025, 4, 1), datetime.date(2025, 4, 1)) == 1
    assert work_period_days(datetime.date(2025, 4, 1), datetime.date(2025, 4, 30)) == 30
    # 2025-04-01 … 2025-05-30 is 60 days: the shortest 工期 with a 前払金 at 津久見市.
    assert work_period_days(datetime.date(2025, 4, 1), datetime.date(2025, 5, 30)) == 60
    # Over a leap day.
    assert work_period_days(datetime.date(2024, 2, 28), datetime.date(2024, 3, 1)) == 3


def test_work_period_refuses_an_end_before_the_start():
    with pytest.raises(ValueError):
        work_period_days(datetime.date(2025, 4, 2), datetime.date(2025, 4, 1))
