"""中間前払金: 2割, 前払金 + 中間前払金 ≤ 6割, and the conditions of DESIGN.md §5.2."""

import datetime

import pytest

from accounts.models import Orderer
from applications.rules import (
    MSG_AMOUNT_NOT_POSITIVE,
    MSG_INTERMEDIATE_CERTIFICATION_FUTURE,
    MSG_INTERMEDIATE_NO_ADVANCE,
    MSG_INTERMEDIATE_NO_CERTIFICATION,
    MSG_INTERMEDIATE_NOT_ALLOWED,
    MSG_INTERMEDIATE_OVER_MAX,
    MSG_INTERMEDIATE_PARTIAL_PAYMENT,
    MSG_INTERMEDIATE_PROGRESS_LOW,
    MSG_INTERMEDIATE_TOO_EARLY,
    MSG_INTERMEDIATE_TOTAL_OVER,
    MSG_WORK_PERIOD_ORDER,
    check_intermediate,
    halfway,
    max_intermediate,
)

D = datetime.date
TSUKUMI = Orderer(name="津久見市", prefecture="大分県", electronic_since=D(2024, 10, 1))

# A work of 1億円 from 2025-04-01 to 2025-09-30 (183 days; halfway 2025-07-01) with a
# 前払金 of 4,000万円 already guaranteed; each test changes what it is about.
VALID = {
    "amount": 20_000_000,
    "advance_amount": 40_000_000,
    "price": 100_000_000,
    "start": D(2025, 4, 1),
    "end": D(2025, 9, 30),
    "today": D(2025, 7, 15),
    "progress_percent": 55,
    "certified_on": D(2025, 7, 10),
    "certification_number": "津土第123号",
    "partial_payment_requested": False,
    "advance_guaranteed": True,
    "orderer": TSUKUMI,
}


def check(**changes):
    return check_intermediate(**{**VALID, **changes})


def test_the_valid_case_passes():
    assert check() == []


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (12_499_999, 2_400_000),  # 2,499,999.8 → 2,400,000
        (12_500_000, 2_500_000),  # exactly 20%
        (12_500_001, 2_500_000),
        (100_000_000, 20_000_000),
    ],
)
def test_max_intermediate_is_20_percent_rounded_down_to_100k(price, expected):
    assert max_intermediate(price) == expected


def test_amount_at_20_percent_is_accepted_and_above_refused():
    price = 12_500_000
    assert check(price=price, advance_amount=5_000_000, amount=2_500_000) == []
    assert check(price=price, advance_amount=5_000_000, amount=2_500_001) == [
        MSG_INTERMEDIATE_OVER_MAX.format(max="2,500,000円"),
        MSG_INTERMEDIATE_TOTAL_OVER.format(
            max="7,500,000円", advance="5,000,000円", amount="2,500,001円", total="7,500,001円"
        ),
    ]


def test_amount_after_rounding_is_refused():
    # 20% of 12,499,999 is 2,499,999; the limit rounded down to 10万円 is 2,400,000.
    assert check(price=12_499_999, advance_amount=4_900_000, amount=2_400_000) == []
    assert check(price=12_499_999, advance_amount=4_900_000, amount=2_400_001) == [
        MSG_INTERMEDIATE_OVER_MAX.format(max="2,400,000円")
    ]


@pytest.mark.parametrize("amount", [0, -1])
def test_amount_must_be_positive(amount):
    assert check(amount=amount) == [MSG_AMOUNT_NOT_POSITIVE]


def test_sixty_percent_exactly_is_accepted():
    assert check(advance_amount=40_000_000, amount=20_000_000) == []


def test_one_yen_over_sixty_percent_is_refused():
    assert check(advance_amount=40_000_001, amount=20_000_000) == [
        MSG_INTERMEDIATE_TOTAL_OVER.format(
            max="60,000,000円", advance="40,000,001円", amount="20,000,000円", total="60,000,001円"
        )
    ]


def test_sixty_percent_is_compared_exactly_for_an_uneven_price():
    # 60% of 12,345,678 is 7,407,406.8: 7,407,406 passes, 7,407,407 does not.
    common = {"price": 12_345_678, "amount": 2_400_000}
    assert check(advance_amount=5_007_406, **common) == []
    assert check(advance_amount=5_007_407, **common) == [
        MSG_INTERMEDIATE_TOTAL_OVER.format(
            max="7,407,406円", advance="5,007,407円", amount="2,400,000円", total="7,407,407円"
        )
    ]


def test_an_advance_must_be_guaranteed_first():
    assert check(advance_guaranteed=False) == [MSG_INTERMEDIATE_NO_ADVANCE]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2025, 4, 1), D(2025, 4, 30), D(2025, 4, 16)),  # 29 days apart: 14.5 → 15
        (D(2025, 4, 1), D(2025, 4, 29), D(2025, 4, 15)),  # 28 days apart: exactly 14
        (D(2025, 4, 1), D(2025, 9, 30), D(2025, 7, 1)),  # 182 days apart: 91
        (D(2025, 4, 1), D(2025, 4, 1), D(2025, 4, 1)),  # a one-day 工期
        (D(2025, 4, 1), D(2025, 4, 2), D(2025, 4, 2)),  # 1 day apart: 0.5 → 1
    ],
)
def test_halfway_rounds_to_the_later_day(start, end, expected):
    assert halfway(start, end) == expected


def test_halfway_refuses_an_end_before_the_start():
    with pytest.raises(ValueError):
        halfway(D(2025, 4, 2), D(2025, 4, 1))


@pytest.mark.parametrize(
    ("today", "ok"),
    [(D(2025, 6, 30), False), (D(2025, 7, 1), True), (D(2025, 7, 2), True)],
)
def test_half_the_work_period_must_have_elapsed(today, ok):
    errors = check(today=today, certified_on=D(2025, 6, 1))
    assert errors == ([] if ok else [MSG_INTERMEDIATE_TOO_EARLY.format(date="2025年7月1日")])


def test_halfway_with_an_odd_span():
    period = {"start": D(2025, 4, 1), "end": D(2025, 4, 30), "certified_on": D(2025, 4, 1)}
    assert check(today=D(2025, 4, 15), **period) == [
        MSG_INTERMEDIATE_TOO_EARLY.format(date="2025年4月16日")
    ]
    assert check(today=D(2025, 4, 16), **period) == []


def test_a_work_period_that_ends_before_it_starts_is_reported():
    assert check(start=D(2025, 9, 30), end=D(2025, 4, 1)) == [MSG_WORK_PERIOD_ORDER]


@pytest.mark.parametrize(("progress", "ok"), [(49, False), (50, True), (51, True)])
def test_progress_must_reach_half(progress, ok):
    errors = check(progress_percent=progress)
    assert errors == ([] if ok else [MSG_INTERMEDIATE_PROGRESS_LOW.format(progress=49)])


@pytest.mark.parametrize(
    "changes",
    [
        {"certified_on": None},
        {"certification_number": ""},
        {"certification_number": "  "},
        {"certified_on": None, "certification_number": ""},
    ],
)
def test_the_orderers_certification_must_be_entered(changes):
    assert check(**changes) == [MSG_INTERMEDIATE_NO_CERTIFICATION]


@pytest.mark.parametrize(
    ("certified_on", "ok"),
    [(D(2025, 7, 14), True), (D(2025, 7, 15), True), (D(2025, 7, 16), False)],
)
def test_the_certification_date_is_not_in_the_future(certified_on, ok):
    errors = check(certified_on=certified_on)
    assert errors == ([] if ok else [MSG_INTERMEDIATE_CERTIFICATION_FUTURE])


def test_partial_payment_excludes_the_intermediate_advance_where_the_orderer_says_so():
    assert check(partial_payment_requested=True) == [MSG_INTERMEDIATE_PARTIAL_PAYMENT]
    lenient = Orderer(name="丙市", intermediate_excludes_partial_payment=False)
    assert check(partial_payment_requested=True, orderer=lenient) == []


def test_an_orderer_without_the_scheme_gets_one_message():
    none = Orderer(name="丁町", intermediate_allowed=False)
    assert check(orderer=none) == [MSG_INTERMEDIATE_NOT_ALLOWED]
    assert check(orderer=none, advance_guaranteed=False, progress_percent=0) == [
        MSG_INTERMEDIATE_NOT_ALLOWED
    ]


def test_all_problems_are_reported_together():
    errors = check(
        advance_guaranteed=False,
        today=D(2025, 6, 1),
        progress_percent=10,
        certified_on=None,
        partial_payment_requested=True,
    )
    assert errors == [
        MSG_INTERMEDIATE_NO_ADVANCE,
        MSG_INTERMEDIATE_TOO_EARLY.format(date="2025年7月1日"),
        MSG_INTERMEDIATE_PROGRESS_LOW.format(progress=10),
        MSG_INTERMEDIATE_NO_CERTIFICATION,
        MSG_INTERMEDIATE_PARTIAL_PAYMENT,
    ]
