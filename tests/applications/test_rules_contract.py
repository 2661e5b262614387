"""契約保証: ≥ 10% (30% after 低入札価格調査), rounded up, only with a 前払金 (DESIGN.md §5.3)."""

from types import SimpleNamespace

import pytest

from accounts.models import Orderer
from applications.rules import (
    MSG_CONTRACT_NEEDS_ADVANCE,
    MSG_CONTRACT_OVER_PRICE,
    MSG_CONTRACT_UNDER_MIN,
    MSG_CONTRACT_UNDER_MIN_LOW_BID,
    MSG_PRICE_NOT_POSITIVE,
    check_contract_guarantee,
    min_contract_guarantee,
)

TSUKUMI = Orderer(name="津久見市", prefecture="大分県")


def check(amount, price, *, low_bid=False, advance=True, orderer=TSUKUMI):
    return check_contract_guarantee(
        amount=amount,
        price=price,
        low_bid=low_bid,
        advance_planned_or_guaranteed=advance,
        orderer=orderer,
    )


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (12_345_000, 1_234_500),  # exact
        (12_345_678, 1_234_568),  # 1,234,567.8 → rounded up
        (12_345_671, 1_234_568),  # 1,234,567.1 → rounded up
        (12_345_670, 1_234_567),  # exact
        (1, 1),  # 0.1 → 1
    ],
)
def test_min_contract_guarantee_is_10_percent_rounded_up(price, expected):
    assert min_contract_guarantee(price, False, TSUKUMI) == expected


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (12_345_000, 3_703_500),
        (12_345_678, 3_703_704),  # 3,703,703.4 → rounded up
        (10_000_000, 3_000_000),
    ],
)
def test_min_contract_guarantee_after_a_low_bid_is_30_percent(price, expected):
    assert min_contract_guarantee(price, True, TSUKUMI) == expected


def test_the_ratios_are_the_orderers():
    policy = SimpleNamespace(contract_guarantee_min_ratio=15, contract_guarantee_low_bid_ratio=20)
    assert min_contract_guarantee(10_000_000, False, policy) == 1_500_000
    assert min_contract_guarantee(10_000_000, True, policy) == 2_000_000


@pytest.mark.parametrize(
    ("amount", "ok"), [(1_234_567, False), (1_234_568, True), (1_234_569, True)]
)
def test_amount_just_under_at_and_over_the_minimum(amount, ok):
    errors = check(amount, 12_345_678)
    assert errors == ([] if ok else [MSG_CONTRACT_UNDER_MIN.format(ratio=10, min="1,234,568円")])


@pytest.mark.parametrize(
    ("amount", "ok"), [(2_999_999, False), (3_000_000, True), (3_000_001, True)]
)
def test_low_bid_minimum(amount, ok):
    errors = check(amount, 10_000_000, low_bid=True)
    expected = [MSG_CONTRACT_UNDER_MIN_LOW_BID.format(ratio=30, min="3,000,000円")]
    assert errors == ([] if ok else expected)


def test_ten_percent_is_not_enough_after_a_low_bid():
    assert check(1_000_000, 10_000_000) == []
    assert check(1_000_000, 10_000_000, low_bid=True) != []


@pytest.mark.parametrize(
    ("amount", "ok"), [(9_999_999, True), (10_000_000, True), (10_000_001, False)]
)
def test_amount_at_most_the_price(amount, ok):
    errors = check(amount, 10_000_000)
    assert errors == ([] if ok else [MSG_CONTRACT_OVER_PRICE.format(price="10,000,000円")])


def test_only_with_an_advance():
    assert check(1_000_000, 10_000_000, advance=False) == [MSG_CONTRACT_NEEDS_ADVANCE]


def test_price_must_be_positive():
    assert check(1, 0) == [MSG_PRICE_NOT_POSITIVE]
