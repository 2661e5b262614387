"""保証料: the fee for a guarantee, and what changes cost or return (DESIGN.md §5.6).

- 保証料 carry no consumption tax (非課税: a guarantee fee is consideration for a guarantee,
  消費税法別表第二), so there is no tax line anywhere.
- Rates come from fee tables that staff manage per guarantee kind, by bracket of the
  guaranteed amount, each bracket with a minimum fee. The table of a kind is a list of
  `Bracket`; the rate of the bracket the amount falls in applies to the whole amount.
- Whole yen, rounded down; all arithmetic in integers (rates in parts per million).

Pure functions: the caller loads the brackets (from the staff-managed table, or
`DEMO_TABLES`) and passes them in.
"""

from dataclasses import dataclass

from esure.choices import GuaranteeKind

PPM = 1_000_000


@dataclass(frozen=True)
class Bracket:
    """One row of a fee table.

    up_to: the inclusive upper bound of the guaranteed amount in yen; None = no limit.
    rate_ppm: the rate in parts per million of the guaranteed amount (0.065% = 650).
    minimum_fee: the fee charged when the rate gives less, in yen.
    """

    up_to: int | None
    rate_ppm: int
    minimum_fee: int


def _sorted(brackets):
    return sorted(brackets, key=lambda b: (b.up_to is None, b.up_to or 0))


def find_bracket(amount: int, brackets) -> Bracket:
    """The first bracket, by ascending up_to (None last), whose up_to ≥ amount.

    Raises ValueError for amount ≤ 0 or when no bracket covers the amount.
    """
    if amount <= 0:
        raise ValueError(f"a guaranteed amount must be positive, got {amount}")
    for bracket in _sorted(brackets):
        if bracket.up_to is None or amount <= bracket.up_to:
            return bracket
    raise ValueError(f"no fee bracket covers {amount} yen")


def compute_fee(amount: int, brackets) -> int:
    """保証料 for a guaranteed amount (DESIGN.md §5.6).

    fee = max(minimum_fee, amount × rate_ppm // 1,000,000) with the bracket from
    `find_bracket`: whole yen, rounded down, no consumption tax.
    """
    bracket = find_bracket(amount, brackets)
    return max(bracket.minimum_fee, amount * bracket.rate_ppm // PPM)


def _check_days(days_total: int, days_remaining: int) -> None:
    if days_total <= 0:
        raise ValueError("days_total must be positive")
    if not 0 <= days_remaining <= days_total:
        raise ValueError("days_remaining must lie between 0 and days_total")


def compute_refund(
    *,
    paid_fee: int,
    old_amount: int,
    new_amount: int | None,
    brackets,
    days_total: int,
    days_remaining: int,
    minimum_retained: int,
) -> int:
    """保証料返還 on a 減額 or a 解約 (new_amount 0 or None), in whole yen.

    refund = (paid_fee − fee(new_amount)) × days_remaining // days_total, where fee(new) is
    `compute_fee` of the reduced amount, or 0 on cancellation; never negative, and the surety
    keeps at least `minimum_retained` of the paid fee (refund ≤ paid_fee − minimum_retained).
    days_total / days_remaining: the guarantee period in days and the part of it not yet run.

    This is the demo rule: the sureties' real refund tables are not public (DESIGN.md §5.6).
    """
    _check_days(days_total, days_remaining)
    if new_amount and new_amount >= old_amount:
        raise ValueError("a refund needs a reduced amount (減額) or a cancellation (解約)")
    new_fee = compute_fee(new_amount, brackets) if new_amount else 0
    refund = max(0, (paid_fee - new_fee) * days_remaining // days_total)
    return max(0, min(refund, paid_fee - minimum_retained))


def compute_additional_fee(
    *, old_amount: int, new_amount: int, brackets, days_total: int, days_remaining: int
) -> int:
    """追加保証料 on a 増額, in whole yen (demo rule, like `compute_refund`).

    (fee(new_amount) − fee(old_amount)) × days_remaining // days_total, never negative: the
    difference of the two fees for the part of the period that remains.
    """
    _check_days(days_total, days_remaining)
    if new_amount <= old_amount:
        raise ValueError("an additional fee needs an increased amount (増額)")
    difference = compute_fee(new_amount, brackets) - compute_fee(old_amount, brackets)
    return max(0, difference * days_remaining // days_total)


# DEMO DATA — not any surety company's real tariff. The real 前払金保証 and 契約保証 tables
# are not public; only the flat 0.065% for 中間前払金保証 is a published figure (HKS). The
# brackets, the other rates and every minimum fee below are invented for the demo and the
# tests. Staff replace them with the real tables. As the rate of a bracket applies to the
# whole amount, a fee may fall just past a bracket edge (10,000,000円 → 40,000円, 10,000,001円
# → 36,000円); `compute_additional_fee` then charges nothing.
DEMO_TABLES: dict[str, list[Bracket]] = {
    GuaranteeKind.ADVANCE: [
        Bracket(up_to=10_000_000, rate_ppm=4_000, minimum_fee=5_000),  # demo: 0.40%
        Bracket(up_to=50_000_000, rate_ppm=3_600, minimum_fee=5_000),  # demo: 0.36%
        Bracket(up_to=None, rate_ppm=3_200, minimum_fee=5_000),  # demo: 0.32%
    ],
    GuaranteeKind.CONTRACT: [
        Bracket(up_to=10_000_000, rate_ppm=1_200, minimum_fee=3_000),  # demo: 0.12%
        Bracket(up_to=None, rate_ppm=1_000, minimum_fee=3_000),  # demo: 0.10%
    ],
    GuaranteeKind.INTERMEDIATE: [
        # 0.065%: published (HKS); the minimum fee is a demo value.
        Bracket(up_to=None, rate_ppm=650, minimum_fee=3_000),
    ],
}
