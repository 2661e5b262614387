"""The numbers of a 契約保証予約: its validity (入札日 + N days, usable through the last day)
and the 契約保証 ratio, which is applications.rules' (called, never restated)."""

import datetime
from types import SimpleNamespace

import pytest

from applications import rules as application_rules
from reservations import rules

BID = datetime.date(2025, 1, 20)
ORDERER = SimpleNamespace(contract_guarantee_min_ratio=10, contract_guarantee_low_bid_ratio=30)


def values(**overrides):
    return {
        "orderer": ORDERER,
        "work_name": "市道堅徳線道路改良工事",
        "bid_date": BID,
        "estimated_price": 12_345_000,
        "amount": 1_234_500,
        "advance_planned": True,
        **overrides,
    }


def problems(today=datetime.date(2025, 1, 10), **overrides):
    found = rules.reservation_problems(values=values(**overrides), orderer=ORDERER, today=today)
    return {(p.field, str(p)) for p in found}


def test_the_default_last_day_is_the_bid_date_plus_the_setting():
    assert rules.default_valid_until(BID, 90) == datetime.date(2025, 4, 20)
    assert rules.default_valid_until(BID, 0) == BID


@pytest.mark.parametrize(
    "day, usable",
    [
        (datetime.date(2025, 4, 19), True),  # the day before the last day
        (datetime.date(2025, 4, 20), True),  # the last day itself
        (datetime.date(2025, 4, 21), False),  # the day after: 期限切れ
    ],
)
def test_a_reservation_is_usable_through_its_last_day(day, usable):
    assert rules.is_usable_on(datetime.date(2025, 4, 20), day) is usable


def test_a_complete_reservation_within_the_rules_has_no_problem():
    assert problems() == set()


@pytest.mark.parametrize(
    "amount, ok",
    [(1_234_499, False), (1_234_500, True), (1_234_501, True)],  # 10% of 12,345,000 = 1,234,500
)
def test_the_reserved_amount_follows_the_contract_guarantee_minimum(amount, ok):
    message = application_rules.MSG_CONTRACT_UNDER_MIN.format(ratio=10, min="1,234,500円")
    assert (("amount", message) in problems(amount=amount)) is not ok


@pytest.mark.parametrize("amount, ok", [(12_345_000, True), (12_345_001, False)])
def test_the_reserved_amount_is_at_most_the_estimated_price(amount, ok):
    message = application_rules.MSG_CONTRACT_OVER_PRICE.format(price="12,345,000円")
    assert (("amount", message) in problems(amount=amount)) is not ok


def test_a_reservation_needs_an_advance_planned():
    assert ("advance_planned", application_rules.MSG_CONTRACT_NEEDS_ADVANCE) in problems(
        advance_planned=False
    )


@pytest.mark.parametrize(
    "today, ok",
    [
        (datetime.date(2025, 1, 19), True),
        (datetime.date(2025, 1, 20), True),  # the bid day itself
        (datetime.date(2025, 1, 21), False),
    ],
)
def test_the_bid_must_still_be_ahead(today, ok):
    message = rules.MSG_BID_DATE_PAST.format(today=rules.date_ja(today))
    assert (("bid_date", message) in problems(today=today)) is not ok


@pytest.mark.parametrize("name", rules.REQUIRED)
def test_every_required_fact_is_asked_for_by_its_field(name):
    assert (name, rules.MSG_REQUIRED) in problems(**{name: None})


def test_staffs_last_day_may_not_come_before_the_bid():
    assert rules.valid_until_problem(valid_until=BID, bid_date=BID) is None
    assert rules.valid_until_problem(
        valid_until=BID - datetime.timedelta(days=1), bid_date=BID
    ) == rules.MSG_VALID_UNTIL_BEFORE_BID.format(bid_date="2025年1月20日")
