"""The claimable amount (claims.rules) at its boundaries, the due date and the termination day."""

import datetime

import pytest

from claims import rules


def advance(advance, progress, completed):
    return rules.advance_claimable(
        advance=advance, progress_paid=progress, completed_value=completed
    ).amount


def test_the_advance_less_the_unpaid_completed_work_is_claimable():
    # 4,900,000 + 1,000,000 − 3,000,000
    assert advance(4_900_000, 1_000_000, 3_000_000) == 2_900_000


def test_completed_work_worth_more_than_everything_paid_leaves_nothing():
    assert advance(4_900_000, 1_000_000, 5_900_001) == 0
    assert advance(4_900_000, 0, 9_000_000) == 0


def test_the_result_exactly_zero():
    assert advance(4_900_000, 1_000_000, 5_900_000) == 0


def test_one_yen_above_zero():
    assert advance(4_900_000, 1_000_000, 5_899_999) == 1


def test_progress_payments_above_the_completed_work_are_capped_at_the_advance():
    # 出来形払 2,000,000 paid for work worth 1,500,000: 5,400,000 is above the 前払金.
    assert advance(4_900_000, 2_000_000, 1_500_000) == 4_900_000


def test_progress_payments_exactly_the_completed_work_claim_the_whole_advance():
    assert advance(4_900_000, 2_000_000, 2_000_000) == 4_900_000


def test_progress_payments_one_yen_below_the_completed_work():
    assert advance(4_900_000, 1_999_999, 2_000_000) == 4_899_999


def test_nothing_completed_and_nothing_paid_claims_the_advance():
    assert advance(4_900_000, 0, 0) == 4_900_000


def test_the_working_shows_each_figure_and_the_result():
    working = rules.advance_claimable(
        advance=4_900_000, progress_paid=1_000_000, completed_value=3_000_000
    ).working
    assert working[0] == (
        "前払金 4,900,000円 ＋ 出来形払 1,000,000円 − 既済部分の代価 3,000,000円 ＝ 2,900,000円"
    )
    assert working[-1] == "請求できる額 2,900,000円"


def test_the_working_says_when_the_advance_caps_it_or_it_falls_below_zero():
    capped = rules.advance_claimable(advance=100, progress_paid=50, completed_value=0).working
    assert "前払金の額 100円 を超えるため" in capped[1]
    negative = rules.advance_claimable(advance=100, progress_paid=0, completed_value=150).working
    assert negative[0].endswith("＝ −50円")
    assert negative[1] == "0円未満のため、0円となります。"


@pytest.mark.parametrize(
    "penalty, expected",
    [(1_234_499, 1_234_499), (1_234_500, 1_234_500), (1_234_501, 1_234_500)],
    ids=["one-yen-under", "at", "one-yen-over"],
)
def test_a_contract_guarantee_pays_the_penalty_up_to_its_amount(penalty, expected):
    computation = rules.contract_claimable(penalty=penalty, guaranteed_amount=1_234_500)
    assert computation.amount == expected
    assert ("保証金額までとなります" in " ".join(computation.working)) is (penalty > 1_234_500)


def test_the_due_date_is_thirty_days_after_receipt():
    assert rules.due_on(datetime.date(2026, 11, 30), 30) == datetime.date(2026, 12, 30)
    assert rules.due_on(datetime.date(2027, 2, 1), 30) == datetime.date(2027, 3, 3)


PERIOD = {"starts_on": datetime.date(2026, 11, 24), "ends_on": datetime.date(2027, 3, 19)}


@pytest.mark.parametrize(
    "day, today, message",
    [
        (datetime.date(2026, 11, 30), datetime.date(2026, 11, 30), None),
        (datetime.date(2026, 12, 1), datetime.date(2026, 11, 30), rules.MSG_TERMINATED_IN_FUTURE),
        (datetime.date(2026, 11, 24), datetime.date(2026, 11, 30), None),
        (datetime.date(2026, 11, 23), datetime.date(2026, 11, 30), "保証期間の始まり"),
        (datetime.date(2027, 3, 19), datetime.date(2027, 4, 1), None),
        (datetime.date(2027, 3, 20), datetime.date(2027, 4, 1), "保証期限"),
    ],
)
def test_the_contract_was_terminated_in_the_past_within_the_guarantee_period(day, today, message):
    problems = rules.check_termination_date(day, today=today, **PERIOD)
    if message is None:
        assert problems == []
    else:
        assert len(problems) == 1 and message in problems[0]
