"""The refund after a 減額 (decision 0026, 公共工事標準請負契約約款 第34条): the excess of the
advance received over 5/10 (6/10 with a 中間前払金) of the new price, in whole yen rounded
down, due 30 days after the reduction; its return recorded once, not in the future, not
before the reduction."""

import datetime

import pytest

from certificates import rules


@pytest.mark.parametrize(
    "received, new_price, tenths, excess",
    [
        (4_900_000, 9_800_000, 5, 0),  # exactly 5/10: nothing to return
        (4_900_001, 9_800_000, 5, 1),  # one yen above: 1 yen
        (4_899_999, 9_800_000, 5, 0),  # below: nothing (never negative)
        (4_900_000, 9_799_999, 5, 0),  # 4,899,999.5 kept: the half yen is not owed
        (4_900_000, 9_799_998, 5, 1),  # 4,899,999 kept: 1 yen
        (6_000_000, 10_000_000, 6, 0),  # with a 中間前払金: exactly 6/10
        (6_000_001, 10_000_000, 6, 1),
        (4_900_000, 6_000_000, 5, 1_900_000),  # a large reduction
    ],
)
def test_the_excess_at_its_boundaries(received, new_price, tenths, excess):
    assert rules.refund_excess(received=received, new_price=new_price, rate_tenths=tenths) == excess


def test_it_is_due_30_days_after_the_reduction_the_first_day_not_counted():
    assert rules.refund_due_on(datetime.date(2026, 11, 30), 30) == datetime.date(2026, 12, 30)


REDUCED = datetime.date(2026, 11, 25)
TODAY = datetime.date(2026, 11, 30)


@pytest.mark.parametrize(
    "returned_on, message",
    [
        (TODAY, None),
        (TODAY + datetime.timedelta(days=1), rules.MSG_RETURN_FUTURE),
        (REDUCED, None),
        (
            REDUCED - datetime.timedelta(days=1),
            rules.MSG_RETURN_BEFORE_REDUCTION.format(day="令和8年11月25日"),
        ),
    ],
)
def test_a_return_is_not_in_the_future_nor_before_the_reduction(returned_on, message):
    problem = rules.return_problem(
        returned_on=returned_on, today=TODAY, reduced_on=REDUCED, already_returned_on=None
    )
    assert problem == message


def test_a_return_is_recorded_once():
    problem = rules.return_problem(
        returned_on=TODAY, today=TODAY, reduced_on=REDUCED, already_returned_on=REDUCED
    )
    assert problem == rules.MSG_ALREADY_RETURNED.format(day="令和8年11月25日")
