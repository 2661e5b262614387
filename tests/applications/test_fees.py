"""保証料: bracket tables, minimum fee, rounding down, refunds and additional fees (§5.6)."""

import pytest

from applications.fees import (
    DEMO_TABLES,
    Bracket,
    compute_additional_fee,
    compute_fee,
    compute_refund,
    find_bracket,
)
from esure.choices import GuaranteeKind

# A test table, given out of order on purpose: brackets are matched by ascending up_to.
TABLE = [
    Bracket(up_to=None, rate_ppm=3_000, minimum_fee=5_000),  # 0.30% above 5,000万円
    Bracket(up_to=10_000_000, rate_ppm=4_000, minimum_fee=5_000),  # 0.40% up to 1,000万円
    Bracket(up_to=50_000_000, rate_ppm=3_600, minimum_fee=5_000),  # 0.36% up to 5,000万円
]


@pytest.mark.parametrize(
    ("amount", "fee"),
    [
        (1, 5_000),  # minimum fee
        (1_249_999, 5_000),  # 4,999.996 → 4,999 → minimum 5,000
        (1_250_000, 5_000),  # exactly the minimum
        (1_250_250, 5_001),  # 5,001.0
        (1_250_499, 5_001),  # 5,001.996 → rounded down
        (10_000_000, 40_000),  # up_to of the first bracket: 0.40%
        (10_000_001, 36_000),  # first yen of the second: 0.36% (36,000.0036)
        (12_345_678, 44_444),  # 44,444.4408 → rounded down
        (50_000_000, 180_000),  # up_to of the second bracket
        (50_000_001, 150_000),  # open-ended bracket: 0.30% (150,000.003)
        (10_000_000_000, 30_000_000),
    ],
)
def test_fee_by_bracket_minimum_and_rounding(amount, fee):
    assert compute_fee(amount, TABLE) == fee


def test_the_bracket_is_chosen_by_its_inclusive_upper_bound():
    assert find_bracket(10_000_000, TABLE).rate_ppm == 4_000
    assert find_bracket(10_000_001, TABLE).rate_ppm == 3_600
    assert find_bracket(50_000_001, TABLE).up_to is None


def test_each_bracket_has_its_own_minimum():
    table = [
        Bracket(up_to=1_000_000, rate_ppm=1_000, minimum_fee=2_000),
        Bracket(up_to=None, rate_ppm=1_000, minimum_fee=3_000),
    ]
    assert compute_fee(1_000_000, table) == 2_000
    assert compute_fee(1_000_001, table) == 3_000
    assert compute_fee(3_000_000, table) == 3_000
    assert compute_fee(3_000_001, table) == 3_000  # 3,000.001 → 3,000
    assert compute_fee(3_001_000, table) == 3_001


@pytest.mark.parametrize("amount", [0, -1])
def test_a_non_positive_amount_is_an_error(amount):
    with pytest.raises(ValueError):
        compute_fee(amount, TABLE)


def test_an_amount_beyond_every_bracket_is_an_error():
    table = [Bracket(up_to=10_000_000, rate_ppm=4_000, minimum_fee=5_000)]
    assert compute_fee(10_000_000, table) == 40_000
    with pytest.raises(ValueError):
        compute_fee(10_000_001, table)


def test_fees_are_whole_yen_integers():
    assert isinstance(compute_fee(12_345_678, TABLE), int)


# --- 保証料返還 (減額 / 解約) ---------------------------------------------------------------


def refund(**changes):
    values = {
        "paid_fee": 40_000,  # the fee of 10,000,000円
        "old_amount": 10_000_000,
        "new_amount": 5_000_000,
        "brackets": TABLE,
        "days_total": 365,
        "days_remaining": 100,
        "minimum_retained": 5_000,
        **changes,
    }
    return compute_refund(**values)


def test_refund_on_a_reduction():
    # fee(5,000,000) = 20,000; (40,000 − 20,000) × 100 / 365 = 5,479.45 → 5,479
    assert refund() == 5_479


def test_refund_on_a_cancellation():
    # (40,000 − 0) × 100 / 365 = 10,958.9 → 10,958
    assert refund(new_amount=0) == 10_958
    assert refund(new_amount=None) == 10_958


def test_refund_keeps_the_minimum_retained():
    # The whole period remains: 40,000 back, but the surety keeps 5,000.
    assert refund(new_amount=0, days_remaining=365) == 35_000
    assert refund(new_amount=0, days_remaining=365, minimum_retained=0) == 40_000


def test_no_refund_when_nothing_remains():
    assert refund(days_remaining=0) == 0
    assert refund(new_amount=0, paid_fee=4_000, days_remaining=365) == 0  # below the minimum


def test_refund_is_never_negative():
    # The table changed since: the new amount's fee exceeds what was paid.
    assert refund(paid_fee=10_000, new_amount=5_000_000, minimum_retained=0) == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"days_total": 0},
        {"days_remaining": -1},
        {"days_remaining": 366},
        {"new_amount": 10_000_000},  # not a reduction
        {"new_amount": 12_000_000},
    ],
)
def test_refund_refuses_inconsistent_input(changes):
    with pytest.raises(ValueError):
        refund(**changes)


# --- 追加保証料 (増額) ----------------------------------------------------------------------


def additional(**changes):
    values = {
        "old_amount": 10_000_000,  # 40,000
        "new_amount": 20_000_000,  # 72,000
        "brackets": TABLE,
        "days_total": 365,
        "days_remaining": 200,
        **changes,
    }
    return compute_additional_fee(**values)


def test_additional_fee_for_the_remaining_days():
    # (72,000 − 40,000) × 200 / 365 = 17,534.2 → 17,534
    assert additional() == 17_534
    assert additional(days_remaining=365) == 32_000
    assert additional(days_remaining=0) == 0


def test_additional_fee_is_never_negative():
    # Past a bracket edge the rate is lower: 10,000,001円 costs 36,000 < 40,000.
    assert additional(new_amount=10_000_001) == 0


def test_additional_fee_within_the_minimum_fee_is_zero():
    assert additional(old_amount=100_000, new_amount=1_000_000) == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"new_amount": 10_000_000},
        {"new_amount": 9_000_000},
        {"days_total": 0},
        {"days_remaining": 366},
    ],
)
def test_additional_fee_refuses_inconsistent_input(changes):
    with pytest.raises(ValueError):
        additional(**changes)


# --- Demo tables -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", GuaranteeKind.values)
def test_there_is_a_demo_table_for_every_kind_covering_any_amount(kind):
    table = DEMO_TABLES[kind]
    assert any(b.up_to is None for b in table)
    assert compute_fee(1, table) > 0
    assert compute_fee(10**12, table) > 0


def test_the_intermediate_demo_table_uses_the_published_rate():
    table = DEMO_TABLES[GuaranteeKind.INTERMEDIATE]
    assert [b.rate_ppm for b in table] == [650]  # 0.065%
    assert compute_fee(20_000_000, table) == 13_000
    assert compute_fee(20_000_001, table) == 13_000  # 13,000.00065 → rounded down


def test_the_demo_advance_table_minimum():
    assert compute_fee(100_000, DEMO_TABLES[GuaranteeKind.ADVANCE]) == 5_000


def test_brackets_are_immutable():
    with pytest.raises(AttributeError):
        TABLE[0].rate_ppm = 1
