"""Rules 1–4 of the use plan (advances.rules.plan_problems) at their boundaries: the
allowed uses per kind of work, the 25% line for 現場管理費等, the totals of 前払金 and
中間前払金, 「未定」 payees, and what a 使途変更 may not undo."""

import pytest

from advances import rules
from advances.models import Funding, PlanLine, WorkKind
from esure.wareki import yen
from tests.conftest import ADVANCE_AMOUNT, plan_row

LIMIT = 1_225_000  # 25% of 4,900,000


def lines(*rows):
    return [PlanLine(key=i, **row) for i, row in enumerate(rows, 1)]


def problems(
    rows,
    *,
    intermediate=0,
    clause=True,
    from_intermediate=False,
    kind="construction",
    committed=None,
    complete=False,
):
    return rules.plan_problems(
        lines=lines(*rows) if rows and isinstance(rows[0], dict) else rows,
        amounts={Funding.ADVANCE: ADVANCE_AMOUNT, Funding.INTERMEDIATE: intermediate},
        work_kind=kind,
        work_kind_label=WorkKind(kind).label,
        overhead_clause=clause,
        overhead_from_intermediate=from_intermediate,
        committed=committed,
        complete=complete,
    )


def full_plan(*extra, material=None):
    """Lines adding up to the whole 前払金 with `extra` lines, materials taking the rest."""
    used = sum(row["amount"] for row in extra)
    return [plan_row("material", material or ADVANCE_AMOUNT - used), *extra]


# Rule 1: allowed uses per kind of work ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "kind", "allowed"),
    [
        ("material", "construction", True),
        ("subcontract", "construction", True),
        ("temporary", "construction", True),
        ("workers_comp", "construction", True),
        ("outsourcing", "construction", False),
        ("travel", "construction", False),
        ("outsourcing", "design", True),
        ("power", "design", True),
        ("temporary", "design", False),
        ("equipment_rental", "design", False),
        ("travel", "design", False),
        ("travel", "survey", True),
        ("outsourcing", "survey", True),
        ("power", "survey", False),
        ("overhead", "design", False),
    ],
)
def test_only_the_uses_of_the_kind_of_work_may_be_planned(code, kind, allowed):
    found = problems([plan_row(code, 100_000)], kind=kind)
    message = rules.MSG_CATEGORY_NOT_ALLOWED.format(
        category=plan_row(code, 1)["category"], kind=WorkKind(kind).label
    )
    assert (message in found.messages()) is not allowed


@pytest.mark.django_db
def test_a_category_staff_retired_can_no_longer_be_planned():
    row = plan_row("repair", 100_000)
    row["category"].active = False
    assert (
        rules.MSG_CATEGORY_NOT_ALLOWED.format(category="修繕費", kind="工事")
        in problems([row]).messages()
    )


# Rule 2: 現場管理費・一般管理費等 at most 25% of the 前払金 ------------------------------------


def test_the_limit_is_a_quarter_of_the_advance_rounded_down():
    assert rules.overhead_limit(4_900_000) == 1_225_000
    assert rules.overhead_limit(1_000_003) == 250_000


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "refused"), [(LIMIT - 1, False), (LIMIT, False), (LIMIT + 1, True)]
)
def test_the_overhead_line_may_take_25_percent_and_not_one_yen_more(amount, refused):
    found = problems(full_plan(plan_row("overhead", amount)), complete=True)
    message = rules.MSG_OVERHEAD_LIMIT.format(funding="前払金", limit=yen(LIMIT), total=yen(amount))
    assert (message in found.messages()) is refused
    assert bool(found) is refused


@pytest.mark.django_db
def test_no_overhead_line_without_the_clause():
    found = problems(full_plan(plan_row("overhead", 100_000)), clause=False)
    assert found.lines[1]["category"] == [rules.MSG_OVERHEAD_NO_CLAUSE]


@pytest.mark.django_db
def test_overhead_is_one_line():
    found = problems(
        full_plan(plan_row("overhead", 100_000), plan_row("overhead", 100_000)), complete=True
    )
    assert found.lines[2]["category"] == [rules.MSG_OVERHEAD_ONE_LINE.format(funding="前払金")]


@pytest.mark.django_db
def test_overhead_is_never_paid_from_the_intermediate_advance_unless_the_orderer_allows():
    rows = [
        *full_plan(),
        plan_row("overhead", 100_000, funding="intermediate"),
        plan_row("material", 1_900_000, funding="intermediate"),
    ]
    refused = problems(rows, intermediate=2_000_000)
    assert refused.lines[1]["funding"] == [rules.MSG_OVERHEAD_FROM_INTERMEDIATE]

    allowed = problems(rows, intermediate=2_000_000, from_intermediate=True, complete=True)
    assert not allowed, allowed.messages()


# Rule 3: the lines add up to the advance, never more ---------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("total", "message"),
    [
        (
            ADVANCE_AMOUNT - 1,
            rules.MSG_TOTAL_SHORT.format(
                funding="前払金",
                total=yen(ADVANCE_AMOUNT - 1),
                amount=yen(ADVANCE_AMOUNT),
                short=yen(1),
            ),
        ),
        (ADVANCE_AMOUNT, None),
        (
            ADVANCE_AMOUNT + 1,
            rules.MSG_TOTAL_OVER.format(
                funding="前払金", total=yen(ADVANCE_AMOUNT + 1), amount=yen(ADVANCE_AMOUNT)
            ),
        ),
    ],
)
def test_the_plan_adds_up_to_the_advance(total, message):
    found = problems([plan_row("material", total)], complete=True)
    assert found.messages() == ([message] if message else [])


@pytest.mark.django_db
def test_while_typing_less_is_fine_but_more_is_not():
    assert not problems([plan_row("material", 1)])
    assert problems([plan_row("material", ADVANCE_AMOUNT + 1)]).general == [
        rules.MSG_TOTAL_OVER.format(
            funding="前払金", total=yen(ADVANCE_AMOUNT + 1), amount=yen(ADVANCE_AMOUNT)
        )
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("total", "ok"), [(999_999, False), (1_000_000, True), (1_000_001, False)])
def test_the_intermediate_advance_is_counted_separately(total, ok):
    rows = [*full_plan(), plan_row("material", total, funding="intermediate")]
    found = problems(rows, intermediate=1_000_000, complete=True)
    assert (not found) == ok, found.messages()
    # The 前払金's own total is untouched by the intermediate lines.
    assert not any("前払金の明細の合計" in m and "中間" not in m for m in found.messages())


@pytest.mark.django_db
def test_no_intermediate_lines_without_an_intermediate_guarantee():
    found = problems([*full_plan(), plan_row("material", 10, funding="intermediate")])
    assert found.lines[1]["funding"] == [rules.MSG_NO_INTERMEDIATE]


@pytest.mark.django_db
def test_an_empty_plan_cannot_be_submitted():
    assert problems([], complete=True).general[0] == rules.MSG_NO_LINES


@pytest.mark.django_db
def test_a_line_needs_an_amount():
    found = problems([plan_row("material", None)])
    assert found.lines[0]["amount"] == [rules.MSG_AMOUNT_REQUIRED]


# Rule 4: a payee may be 「未定」, otherwise it is complete ---------------------------------------


@pytest.mark.django_db
def test_a_line_may_leave_its_payee_undecided():
    assert not problems([plan_row("subcontract", ADVANCE_AMOUNT, undecided=True)], complete=True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "missing", ["payee_name", "payee_bank", "payee_branch", "payee_account_number", "payee_holder"]
)
def test_a_decided_payee_needs_the_whole_account(missing):
    found = problems([plan_row("subcontract", ADVANCE_AMOUNT, **{missing: ""})])
    assert found.lines[0]["payee_name"] == [rules.MSG_PAYEE_REQUIRED]


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["labor", "guarantee_fee", "overhead"])
def test_uses_paid_to_the_contractor_need_no_payee(code):
    row = plan_row(code, 100_000, payee_name="", payee_bank="", payee_account_number="")
    assert not problems([row])


# A 使途変更 cannot undo what was paid ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("amount", "refused"), [(299_999, True), (300_000, False)])
def test_a_change_cannot_lower_a_line_below_what_it_paid(amount, refused):
    found = problems([plan_row("material", amount)], committed={1: 300_000})
    assert (rules.MSG_BELOW_COMMITTED.format(committed=yen(300_000)) in found.messages()) is refused


@pytest.mark.django_db
def test_a_change_cannot_remove_a_line_that_paid():
    found = problems([plan_row("material", 100)], committed={1: 0, 2: 50})
    assert found.general == [rules.MSG_REMOVED_COMMITTED.format(key=2)]
