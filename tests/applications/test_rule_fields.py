"""Each rule names the fact its message is about (rules.Problem.field), and validation puts
the message next to that fact's form field — never by reading the message's text. The
中間前払金 case is test_rules_intermediate's valid one, changed where a test says."""

import datetime

from accounts.models import Orderer
from applications import rules, validation
from applications.errors import Errors
from tests.applications.test_rules_intermediate import check as intermediate

D = datetime.date


def test_each_intermediate_problem_names_its_fact():
    problems = intermediate(
        amount=30_000_000,
        advance_guaranteed=False,
        today=D(2025, 6, 1),
        progress_percent=10,
        certified_on=None,
        partial_payment_requested=True,
    )
    assert [(str(p), p.field) for p in problems] == [
        (rules.MSG_INTERMEDIATE_OVER_MAX.format(max="20,000,000円"), "amount"),
        (
            rules.MSG_INTERMEDIATE_TOTAL_OVER.format(
                max="60,000,000円",
                advance="40,000,000円",
                amount="30,000,000円",
                total="70,000,000円",
            ),
            "amount",
        ),
        (rules.MSG_INTERMEDIATE_NO_ADVANCE, None),
        (rules.MSG_INTERMEDIATE_TOO_EARLY.format(date="2025年7月1日"), None),
        (rules.MSG_INTERMEDIATE_PROGRESS_LOW.format(progress=10), "progress_percent"),
        (rules.MSG_INTERMEDIATE_NO_CERTIFICATION, "certified_on"),
        (rules.MSG_INTERMEDIATE_PARTIAL_PAYMENT, "partial_payment_requested"),
    ]


def test_a_problem_is_its_message():
    [problem] = intermediate(certified_on=D(2025, 7, 16))
    assert problem == rules.MSG_INTERMEDIATE_CERTIFICATION_FUTURE
    assert isinstance(problem, str) and problem.field == "certified_on"


def test_validation_places_each_problem_by_its_field():
    errors = Errors()
    problems = intermediate(
        amount=30_000_000, advance_guaranteed=False, progress_percent=10, certified_on=None
    )
    errors.add_problems(
        problems, default="intermediate_amount", fields=validation.INTERMEDIATE_FIELDS
    )
    assert {field: len(messages) for field, messages in errors.items()} == {
        "intermediate_amount": 2,  # over 2割, and over 6割 with the advance
        "__all__": 1,  # no advance guaranteed
        "progress_percent": 1,
        "certified_on": 1,
    }


def test_a_reworded_message_keeps_its_field():
    # The field comes from the rule, not from the text: any wording lands in the same place.
    errors = Errors()
    errors.add_problems(
        [rules.Problem("出来高の表現を変えたメッセージ", "progress_percent")],
        default="intermediate_amount",
        fields=validation.INTERMEDIATE_FIELDS,
    )
    assert errors == {"progress_percent": ["出来高の表現を変えたメッセージ"]}


def test_every_check_names_a_field_on_every_problem():
    orderer = Orderer(
        name="乙市", min_advance_contract_amount=1_300_000, min_advance_period_days=60
    )
    checks = [
        rules.check_advance(
            amount=10_000_000,
            price=1_000_000,
            category="construction",
            period_days=10,
            orderer=orderer,
        ),
        rules.check_contract_guarantee(
            amount=1,
            price=1_000_000,
            low_bid=False,
            advance_planned_or_guaranteed=False,
            orderer=orderer,
        ),
        rules.check_work_not_ended(kind="advance", end=D(2025, 1, 1), today=D(2025, 1, 2)),
        rules.check_new_work_end(new_end=D(2025, 1, 1), start=D(2025, 2, 1), today=D(2025, 1, 2)),
        rules.check_change_contract_date(
            changed_on=D(2026, 1, 1), contract_date=D(2025, 2, 1), today=D(2025, 1, 2)
        ),
    ]
    fields = [[p.field for p in problems] for problems in checks]
    assert fields == [
        ["amount", "price", "period_days"],
        ["advance_planned_or_guaranteed", "amount"],
        ["end"],
        ["new_end"],
        ["changed_on"],
    ]
