"""保証料: the fee for a guarantee, and what changes cost or return (DESIGN.md §5.6) — the
one module of fees: the arithmetic, the tables in force, and the fee of an application.

- 保証料 carry no consumption tax (非課税: a guarantee fee is consideration for a guarantee,
  消費税法別表第二), so there is no tax line anywhere.
- Rates come from fee tables that staff manage per guarantee kind, by bracket of the
  guaranteed amount, each bracket with a minimum fee. The table of a kind is a list of
  `Bracket`; the rate of the bracket the amount falls in applies to the whole amount.
- Whole yen, rounded down; all arithmetic in integers (rates in parts per million).

The arithmetic (compute_fee, compute_refund, compute_additional_fee) is pure: the caller
passes the brackets. `expected_fee(application, day)` reads the tables in force and the
registry's current terms and gives the one answer every page, admin and the conclusion use:
an `ExpectedFee` holding a `Quote` per guarantee (menus 1–3) or a `ChangeFee` (menu 5).
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from applications.models import Application, FeeTable
from certificates import selectors as registry
from esure.choices import GuaranteeKind

MSG_NO_FEE_TABLE = "{kind}の保証料率表がありません。管理画面で料率表を登録してください。"

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


# --- The fee tables in force and the fee of an application ---------------------------------


@dataclass(frozen=True)
class Table:
    """The staff-managed fee table (保証料率表) in force for a kind on a day."""

    name: str
    is_demo: bool  # デモ用の料率: every page that shows its fees says so
    brackets: tuple[Bracket, ...]


def table_in_force(kind, day) -> Table | None:
    """The table of `kind` valid on `day` (the latest valid_from on or before it), or None."""
    row = (
        FeeTable.objects.filter(kind=kind, valid_from__lte=day)
        .order_by("-valid_from")
        .prefetch_related("brackets")
        .first()
    )
    if row is None:
        return None
    brackets = tuple(
        Bracket(up_to=b.up_to, rate_ppm=b.rate_ppm, minimum_fee=b.minimum_fee)
        for b in row.brackets.all()
    )
    return Table(name=row.name, is_demo=row.is_demo, brackets=brackets)


@dataclass(frozen=True)
class Quote:
    """The 保証料 of one guarantee, with how it was found (the bracket and the table)."""

    kind: str
    fee: int
    rate_ppm: int
    minimum_fee: int
    table_name: str
    is_demo: bool

    def for_certificate(self, *, received_on: datetime.date, method: str) -> dict:
        """The plain values the registry states on the certificate and 保証料計算書."""
        return {
            "fee": self.fee,
            "rate_ppm": self.rate_ppm,
            "minimum_fee": self.minimum_fee,
            "table_name": self.table_name,
            "is_demo": self.is_demo,
            "received_on": received_on.isoformat(),
            "method": method,
        }


def quote(kind, amount, day=None) -> Quote | None:
    """The fee of a guarantee of `kind` and `amount` from the table in force on `day`
    (today by default); None when it cannot be computed (no amount yet, no table, no
    bracket for the amount)."""
    if not amount or amount <= 0:
        return None
    table = table_in_force(kind, day or timezone.localdate())
    if table is None:
        return None
    try:
        bracket = find_bracket(amount, table.brackets)
    except ValueError:
        return None
    return Quote(
        kind=kind,
        fee=compute_fee(amount, table.brackets),
        rate_ppm=bracket.rate_ppm,
        minimum_fee=bracket.minimum_fee,
        table_name=table.name,
        is_demo=table.is_demo,
    )


@dataclass(frozen=True)
class ChangeFee:
    """What a change (menu 5) costs or returns: 追加保証料 (kind "additional"), 保証料返還
    ("refund") or nothing ("none"), with the figures the 保証料計算書 / 保証料返還計算書 shows."""

    kind: str
    fee: int
    old_amount: int
    new_amount: int | None  # None: 解約
    paid_fee: int
    days_total: int
    days_remaining: int
    table_name: str
    is_demo: bool
    reason_label: str

    def for_certificate(self, *, received_on=None, method=None) -> dict:
        """The plain values the registry states on the new version; with the receipt's date
        and method when a fee was received."""
        values = {
            "kind": self.kind,
            "fee": self.fee,
            "old_amount": self.old_amount,
            "new_amount": self.new_amount,
            "paid_fee": self.paid_fee,
            "days_total": self.days_total,
            "days_remaining": self.days_remaining,
            "table_name": self.table_name,
            "is_demo": self.is_demo,
            "reason_label": self.reason_label,
        }
        if received_on is not None:
            values.update(received_on=received_on.isoformat(), method=method)
        return values


def _days(terms, day):
    """The guarantee period in days, and the part of it not yet run on `day` (both ends
    counted)."""
    total = (terms.ends_on - terms.starts_on).days + 1
    remaining = min(total, max(0, (terms.ends_on - day).days + 1))
    return total, remaining


def change_fee(application, day) -> ChangeFee:
    """追加保証料 / 保証料返還 of a change on `day` (DESIGN.md §5.6; the demo refund rule of
    `compute_refund`), from the guarantee's current terms and the table in force."""
    C = Application.ChangeKind
    terms = registry.current_terms(application.guarantee)
    old_amount = terms.amount
    item = application.items.first()
    new_amount = item.amount if item else old_amount
    table = table_in_force(application.guarantee.kind, day)
    brackets = table.brackets if table else ()
    total, remaining = _days(terms, day)
    paid = terms.paid_fee
    period = {"brackets": brackets, "days_total": total, "days_remaining": remaining}
    kind, fee = "none", 0
    if application.change_kind == C.CANCEL:
        kind, new_amount = "refund", None
    elif new_amount > old_amount and brackets:
        kind = "additional"
        fee = compute_additional_fee(old_amount=old_amount, new_amount=new_amount, **period)
    elif new_amount < old_amount and brackets:
        kind = "refund"
    if kind == "refund":
        # The surety keeps at least the minimum fee of the amount it guaranteed (all of it
        # when there is no table to say what that minimum is).
        minimum = find_bracket(old_amount, brackets).minimum_fee if brackets else paid
        fee = compute_refund(
            paid_fee=paid,
            old_amount=old_amount,
            new_amount=new_amount,
            minimum_retained=minimum,
            **period,
        )
    return ChangeFee(
        kind=kind,
        fee=fee,
        old_amount=old_amount,
        new_amount=new_amount,
        paid_fee=paid,
        days_total=total,
        days_remaining=remaining,
        table_name=table.name if table else "",
        is_demo=bool(table and table.is_demo),
        reason_label=C(application.change_kind).label if application.change_kind else "",
    )


@dataclass(frozen=True)
class ExpectedFee:
    """The fee of an application on a day: what the company is asked to pay (`due`), and
    how it is made up — a Quote per requested kind (menus 1–3; None where no fee can be
    computed yet) or the ChangeFee of a change (menu 5)."""

    due: int  # 保証料 or 追加保証料 to receive; 0 when nothing is due (a refund included)
    quotes: dict  # GuaranteeKind → Quote | None, in the order of the items
    change: ChangeFee | None = None

    @property
    def problem(self) -> str | None:
        """Why the fee to receive cannot be computed (a kind without a fee table), or None."""
        for kind, found in self.quotes.items():
            if found is None:
                return MSG_NO_FEE_TABLE.format(kind=GuaranteeKind(kind).label)
        return None


def expected_fee(application, day=None) -> ExpectedFee:
    """The one answer to "what does this application cost on `day`" (today by default), for
    the clerk's pages, staff's review and 保証料入金 box, and the conclusion itself."""
    day = day or timezone.localdate()
    if application.menu == Application.Menu.CHANGE:
        statement = change_fee(application, day)
        due = statement.fee if statement.kind == "additional" else 0
        return ExpectedFee(due=due, quotes={}, change=statement)
    quotes = {item.kind: quote(item.kind, item.amount, day) for item in application.items.all()}
    return ExpectedFee(due=sum(q.fee for q in quotes.values() if q), quotes=quotes)
