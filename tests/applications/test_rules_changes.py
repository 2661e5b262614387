"""Price changes after conclusion (menu 5; DESIGN.md §5.4)."""

from types import SimpleNamespace

import pytest

from accounts.models import Orderer
from applications.rules import (
    MSG_CHANGE_ADVANCE_OVER_NEW_MAX,
    MSG_CHANGE_CONTRACT_INCREASE_REQUIRED,
    MSG_CHANGE_CONTRACT_UNDER_MIN,
    MSG_CONTRACT_OVER_PRICE,
    MSG_PRICE_NOT_POSITIVE,
    check_price_change,
)
from esure.choices import WorkCategory

TSUKUMI = Orderer(name="津久見市", prefecture="大分県")  # threshold 125% by default
NO_THRESHOLD = Orderer(name="己市", prefecture="大分県", price_increase_threshold_percent=None)


def check(new_price, *, original=10_000_000, advance=4_000_000, contract=1_000_000, **kw):
    values = {
        "category": WorkCategory.CONSTRUCTION,
        "low_bid": False,
        "orderer": TSUKUMI,
        **kw,
    }
    return check_price_change(
        new_price=new_price,
        original_price=original,
        advance_amount=advance,
        contract_amount=contract,
        **values,
    )


def test_an_unchanged_price_passes():
    assert check(10_000_000) == []


# --- 前払金 ----------------------------------------------------------------------------


def test_a_reduction_that_keeps_the_advance_within_the_new_maximum_passes():
    # New maximum: 9,000,000 × 40% = 3,600,000 ≥ 3,600,000 already guaranteed.
    assert check(9_000_000, advance=3_600_000, contract=900_000) == []


def test_a_reduction_below_the_paid_advance_is_refused_with_both_amounts():
    # 9,999,999 × 40% = 3,999,999.6 → 3,900,000 < 4,000,000 already guaranteed.
    errors = check(9_999_999)
    assert errors == [
        MSG_CHANGE_ADVANCE_OVER_NEW_MAX.format(
            price="9,999,999円", max="3,900,000円", advance="4,000,000円"
        )
    ]
    assert "3,900,000円" in errors[0]
    assert "4,000,000円" in errors[0]


def test_consulting_uses_its_30_percent():
    common = {"original": 10_000_000, "advance": 3_000_000, "contract": 0}
    assert check(10_000_000, category=WorkCategory.CONSULTING, **common) == []
    assert check(9_999_999, category=WorkCategory.CONSULTING, **common) == [
        MSG_CHANGE_ADVANCE_OVER_NEW_MAX.format(
            price="9,999,999円", max="2,900,000円", advance="3,000,000円"
        )
    ]


@pytest.mark.parametrize("advance", [0, None])
def test_without_an_advance_guarantee_nothing_is_checked_for_it(advance):
    assert check(1_000_000, advance=advance, contract=None) == []


# --- 契約保証 ----------------------------------------------------------------------------


def test_a_reduction_keeps_the_contract_guarantee_valid():
    assert check(8_000_000, advance=3_200_000, contract=1_000_000) == []


def test_a_reduction_below_the_contract_amount_is_reported():
    errors = check(9_000_000, advance=3_600_000, contract=10_000_000)
    assert errors == [MSG_CONTRACT_OVER_PRICE.format(price="9,000,000円")]


def test_a_small_increase_still_needs_10_percent_of_the_new_price():
    # 11,000,000: +10%, under the 1.25× threshold: the ordinary minimum applies.
    assert check(11_000_000, contract=1_100_000) == []
    assert check(11_000_000, contract=1_099_999) == [
        MSG_CHANGE_CONTRACT_UNDER_MIN.format(
            price="11,000,000円", ratio=10, min="1,100,000円", amount="1,099,999円"
        )
    ]


@pytest.mark.parametrize(
    ("new_price", "expected"),
    [
        # 124.99%: below the threshold — the ordinary minimum message
        (
            12_499_000,
            MSG_CHANGE_CONTRACT_UNDER_MIN.format(
                price="12,499,000円", ratio=10, min="1,249,900円", amount="1,000,000円"
            ),
        ),
        # 125%: at the threshold — the guarantee must be increased
        (
            12_500_000,
            MSG_CHANGE_CONTRACT_INCREASE_REQUIRED.format(
                original="10,000,000円", threshold=125, required="1,250,000円", amount="1,000,000円"
            ),
        ),
        # 125.01%
        (
            12_501_000,
            MSG_CHANGE_CONTRACT_INCREASE_REQUIRED.format(
                original="10,000,000円", threshold=125, required="1,250,100円", amount="1,000,000円"
            ),
        ),
    ],
)
def test_the_125_percent_rule_with_the_original_contract_amount(new_price, expected):
    assert check(new_price, contract=1_000_000) == [expected]


@pytest.mark.parametrize("new_price", [12_499_000, 12_500_000, 12_501_000])
def test_a_contract_guarantee_already_large_enough_passes_the_125_percent_rule(new_price):
    assert check(new_price, contract=3_000_000) == []


@pytest.mark.parametrize(("contract", "ok"), [(1_249_999, False), (1_250_000, True)])
def test_at_125_percent_the_new_minimum_is_enough(contract, ok):
    assert (check(12_500_000, contract=contract) == []) is ok


def test_without_a_threshold_the_ordinary_minimum_applies():
    assert check(12_500_000, contract=1_000_000, orderer=NO_THRESHOLD) == [
        MSG_CHANGE_CONTRACT_UNDER_MIN.format(
            price="12,500,000円", ratio=10, min="1,250,000円", amount="1,000,000円"
        )
    ]


def test_the_increase_must_exceed_the_original_requirement_even_when_rounding_ties():
    # A tiny price: 10% of 1 and of 2 both round up to 1円, so the new minimum alone would
    # not force an increase; the 1.25× rule asks for more than the original 1円.
    policy = SimpleNamespace(
        advance_ratio_construction=40,
        advance_ratio_consulting=30,
        contract_guarantee_min_ratio=10,
        contract_guarantee_low_bid_ratio=30,
        price_increase_threshold_percent=125,
    )
    common = {"original": 1, "advance": None, "orderer": policy}
    assert check(2, contract=1, **common) == [
        MSG_CHANGE_CONTRACT_INCREASE_REQUIRED.format(
            original="1円", threshold=125, required="2円", amount="1円"
        )
    ]
    assert check(2, contract=2, **common) == []


def test_after_a_low_bid_the_new_minimum_is_30_percent():
    common = {"original": 10_000_000, "advance": 4_000_000, "low_bid": True}
    assert check(11_000_000, contract=3_300_000, **common) == []
    assert check(11_000_000, contract=3_000_000, **common) == [
        MSG_CHANGE_CONTRACT_UNDER_MIN.format(
            price="11,000,000円", ratio=30, min="3,300,000円", amount="3,000,000円"
        )
    ]


@pytest.mark.parametrize("contract", [0, None])
def test_without_a_contract_guarantee_nothing_is_checked_for_it(contract):
    assert check(20_000_000, contract=contract) == []


@pytest.mark.parametrize(("new_price", "original"), [(0, 10_000_000), (10_000_000, 0)])
def test_prices_must_be_positive(new_price, original):
    assert check(new_price, original=original) == [MSG_PRICE_NOT_POSITIVE]
