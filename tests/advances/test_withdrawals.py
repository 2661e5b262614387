"""Withdrawals (払出依頼) against the accepted plan: rules 5–8 at their boundaries, the
status table, the bank's confirmation and execution, and the balance computed from it all."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from advances import rules, selectors, services
from advances.models import Withdrawal
from esure.wareki import yen
from tests.conftest import (
    attach_required_evidence,
    evidence_file,
    line_of,
    make_advance_account,
    make_bank_branch,
    make_bank_user,
    make_deposit,
    make_plan,
    make_staff,
    make_withdrawal,
    plan_row,
)

W = Withdrawal.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def bank_user(db):
    return make_bank_user(make_bank_branch(), email="madoguchi@bungo-bank.example.jp")


@pytest.fixture
def account(bank_user):
    account = make_advance_account()
    make_deposit(account, by=bank_user)
    return account


@pytest.fixture
def plan(account):
    return make_plan(account)


def draft(account, rows, cash=False):
    return services.save_withdrawal_draft(
        account=account,
        by=account.registered_by,
        rows=[{"plan_line": line, "amount": amount} for line, amount in rows],
        cash=cash,
    )


def redraft(withdrawal, rows, cash=False):
    """The same draft with other amounts (its evidence stays with the lines it keeps)."""
    return services.save_withdrawal_draft(
        account=withdrawal.account,
        by=withdrawal.created_by,
        rows=[{"plan_line": line, "amount": amount} for line, amount in rows],
        cash=cash,
        withdrawal=withdrawal,
    )


def around(limit):
    """(amount, refused) one yen under, at and over a limit."""
    return [(limit - 1, False), (limit, False), (limit + 1, True)]


def problems_of(withdrawal):
    return services.withdrawal_problems_of(withdrawal).messages()


# Rule 5: no withdrawal before the surety accepted the plan -----------------------------


def test_no_withdrawal_before_the_plan_is_accepted(account):
    make_plan(account, status="submitted")
    withdrawal = draft(account, [])
    assert problems_of(withdrawal) == [rules.MSG_NO_PLAN]
    with pytest.raises(services.ValidationError):
        services.submit_withdrawal(withdrawal=withdrawal, by=account.registered_by)


# Rule 6: a line's running total never exceeds its amount -------------------------------------


def test_a_line_pays_out_at_most_its_amount_in_total(account, plan, bank_user):
    material = line_of(plan, "material")  # 2,000,000
    make_withdrawal(account, [(material, 1_500_000)], status="executed", bank_user=bank_user)
    withdrawal = draft(account, [(material, 1)])
    attach_required_evidence(withdrawal)
    for amount, refused in around(500_000):
        redraft(withdrawal, [(material, amount)])
        message = rules.MSG_LINE_EXCEEDED.format(
            key=material.key, remaining=yen(500_000), amount=yen(amount)
        )
        assert (message in problems_of(withdrawal)) is refused, amount


def test_requests_not_yet_executed_count_against_the_line_too(account, plan):
    material = line_of(plan, "material")
    make_withdrawal(account, [(material, 1_999_999)])  # submitted, not executed
    withdrawal = draft(account, [(material, 2)])
    attach_required_evidence(withdrawal)
    assert rules.MSG_LINE_EXCEEDED.format(key=1, remaining=yen(1), amount=yen(2)) in problems_of(
        withdrawal
    )


def test_a_refused_or_withdrawn_request_frees_its_amount(account, plan, bank_user):
    material = line_of(plan, "material")
    first = make_withdrawal(account, [(material, 2_000_000)])
    services.reject_withdrawal(withdrawal=first, by=bank_user, reason="請求書の金額が異なります")
    withdrawal = draft(account, [(material, 2_000_000)])
    attach_required_evidence(withdrawal)
    assert problems_of(withdrawal) == []


def test_the_payee_is_the_plan_lines_or_the_contractors_own(account, plan):
    withdrawal = draft(
        account, [(line_of(plan, "subcontract"), 100), (line_of(plan, "labor"), 100)]
    )
    sub, labor = withdrawal.lines.order_by("pk")
    assert (sub.payee_name, sub.payee_account_number) == ("津久見資材株式会社", "1111111")
    assert (labor.payee_name, labor.payee_account_number) == (account.company.name, "7654321")


def test_a_line_without_an_amount_is_refused(account, plan):
    with pytest.raises(services.ValidationError) as error:
        draft(account, [(line_of(plan, "material"), 0)])
    assert error.value.messages == [rules.MSG_AMOUNT_REQUIRED]


def test_a_line_of_another_plan_is_refused(account, plan):
    other = make_plan(make_advance_account(account_number="2345678"))
    with pytest.raises(services.ValidationError) as error:
        draft(account, [(line_of(other, "material"), 100)])
    assert error.value.messages == [services.MSG_PLAN_LINE_CHOICE]


def test_interest_is_withdrawn_without_a_line_up_to_what_was_credited(account, plan):
    make_deposit(account, 1_000, kind="interest")
    withdrawal = draft(account, [(None, 1)])
    for amount, refused in around(1_000):
        redraft(withdrawal, [(None, amount)])
        message = rules.MSG_INTEREST_EXCEEDED.format(available=yen(1_000), amount=yen(amount))
        assert (message in problems_of(withdrawal)) is refused, amount
        assert not any("明細" in m for m in problems_of(withdrawal))


def test_interest_is_not_counted_against_the_plan(account, plan, bank_user):
    make_deposit(account, 1_000, kind="interest")
    material = line_of(plan, "material")
    make_withdrawal(
        account, [(material, 2_000_000), (None, 1_000)], status="executed", bank_user=bank_user
    )
    position = selectors.position_of(account)
    assert [p.paid for p in position.lines if p.line.key == material.key] == [2_000_000]
    assert position.interest_available == 0
    assert position.balance == 4_900_000 + 1_000 - 2_001_000


def test_never_more_than_the_balance(account, plan):
    # The whole 4,900,000 is paid in; lines and interest together may take it, not a yen more.
    make_deposit(account, 1, kind="interest")
    lines = [line_of(plan, code) for code in ("material", "subcontract", "labor")]
    withdrawal = draft(account, [(line, 1) for line in lines])
    attach_required_evidence(withdrawal)
    for amount, refused in around(4_900_001):
        # 2,000,000 + 2,400,000 + 500,000 from the lines, the rest from interest.
        rows = [(line, line.amount) for line in lines]
        if amount < 4_900_000:
            rows[0] = (lines[0], lines[0].amount - (4_900_000 - amount))
        elif amount > 4_900_000:
            rows.append((None, amount - 4_900_000))
        redraft(withdrawal, rows)
        found = problems_of(withdrawal)
        assert any("払出可能残高" in m for m in found) is refused, (amount, found)


# Rule 4 at withdrawal time: 「未定」 is paid only after a change names the payee ------------------


def test_an_undecided_line_is_paid_only_after_a_change_fixes_it(account, bank_user):
    staff = make_staff()
    plan = make_plan(
        account,
        [plan_row("material", 2_500_000), plan_row("subcontract", 2_400_000, undecided=True)],
        staff=staff,
    )
    undecided = line_of(plan, "subcontract")
    withdrawal = draft(account, [(undecided, 1_000_000)])
    attach_required_evidence(withdrawal)
    assert rules.MSG_UNDECIDED in problems_of(withdrawal)

    change = services.start_plan(account=account, by=account.registered_by, reason="下請業者の決定")
    services.save_plan_draft(
        plan=change,
        by=account.registered_by,
        rows=[plan_row("material", 2_500_000, key=1), plan_row("subcontract", 2_400_000, key=2)],
    )
    services.submit_plan(plan=change, by=account.registered_by)
    assert rules.MSG_UNDECIDED in problems_of(withdrawal)  # submitted is not enough
    services.accept_plan(plan=change, by=staff)

    # The draft pointed at the old version's line: it is judged by the same key now.
    assert problems_of(withdrawal) == []
    services.submit_withdrawal(withdrawal=withdrawal, by=account.registered_by)
    confirmed = services.confirm_withdrawal(withdrawal=withdrawal, by=bank_user)
    assert confirmed.status == W.CONFIRMED


# Rule 7: the evidence each use needs ---------------------------------------------------------


def test_a_subcontract_payment_needs_the_contract_and_the_site_register(account, plan):
    withdrawal = draft(account, [(line_of(plan, "subcontract"), 100_000)])
    line = withdrawal.lines.get()
    kinds = {k.name: k for k in line.plan_line.category.evidence_kinds.all()}
    assert set(kinds) == {"下請契約書", "施工体制台帳"}
    missing = rules.MSG_EVIDENCE_MISSING.format(
        key=2, category="下請代金", kinds="下請契約書」「施工体制台帳"
    )
    assert missing in problems_of(withdrawal)

    services.add_evidence(
        line=line, kind=kinds["下請契約書"], upload=evidence_file(), by=account.registered_by
    )
    assert rules.MSG_EVIDENCE_MISSING.format(
        key=2, category="下請代金", kinds="施工体制台帳"
    ) in problems_of(withdrawal)
    with pytest.raises(services.ValidationError):
        services.submit_withdrawal(withdrawal=withdrawal, by=account.registered_by)

    services.add_evidence(
        line=line, kind=kinds["施工体制台帳"], upload=evidence_file("png"), by=account.registered_by
    )
    assert problems_of(withdrawal) == []


def test_own_labour_and_the_guarantee_fee_need_no_evidence(account):
    plan = make_plan(account, [plan_row("labor", 4_400_000), plan_row("guarantee_fee", 500_000)])
    withdrawal = draft(
        account, [(line_of(plan, "labor"), 100), (line_of(plan, "guarantee_fee"), 100)]
    )
    assert problems_of(withdrawal) == []


# Rule 8: cash ------------------------------------------------------------------------------


def test_cash_is_refused_by_default(account, plan):
    withdrawal = draft(account, [(line_of(plan, "labor"), 100)], cash=True)
    assert problems_of(withdrawal) == [rules.MSG_CASH_NOT_ALLOWED]


def test_cash_up_to_the_set_amount_goes_to_staff_first(
    settings, account, plan, django_capture_on_commit_callbacks
):
    settings.ESURE_ADVANCE_CASH_LIMIT = 100_000
    staff = make_staff(email="genkin@surety.example.jp")
    labor = line_of(plan, "labor")
    withdrawal = draft(account, [(labor, 1)], cash=True)
    for amount, refused in around(100_000):
        redraft(withdrawal, [(labor, amount)], cash=True)
        message = rules.MSG_CASH_LIMIT.format(limit=yen(100_000), amount=yen(amount))
        assert (message in problems_of(withdrawal)) is refused, amount
    redraft(withdrawal, [(labor, 100_000)], cash=True)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = services.submit_withdrawal(withdrawal=withdrawal, by=account.registered_by)
    assert withdrawal.status == W.CASH_REVIEW
    assert staff.email in mail.outbox[-1].to
    assert services.withdrawal_problems_of(withdrawal).messages() == []
    # Not yet the bank's: it reaches the bank when staff approve.
    assert not selectors.withdrawals_at(account.branch).filter(pk=withdrawal.pk).exists()
    services.approve_cash(withdrawal=withdrawal, by=staff)
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == W.SUBMITTED


# The bank's side and the balance -------------------------------------------------------------


def test_confirm_execute_and_the_new_balance(
    account, plan, bank_user, django_capture_on_commit_callbacks
):
    clerk = account.registered_by
    sub = line_of(plan, "subcontract")
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = make_withdrawal(account, [(sub, 1_200_000)])
    assert withdrawal.status == W.SUBMITTED and withdrawal.pdf_sha256
    assert mail.outbox[-1].to == [bank_user.email]
    assert "払出依頼が届きました" in mail.outbox[-1].subject
    assert "1,200,000" not in mail.outbox[-1].body

    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_withdrawal(withdrawal=withdrawal, by=bank_user)
    assert mail.outbox[-1].to == [clerk.email]
    with pytest.raises(services.ValidationError) as error:
        services.record_execution(
            withdrawal=withdrawal,
            by=bank_user,
            executed_on=timezone.localdate(),
            amount=1_199_999,
            reference="A-1",
        )
    assert error.value.message_dict["amount"] == [
        services.MSG_EXECUTED_AMOUNT.format(amount=yen(1_199_999), total=yen(1_200_000))
    ]
    with pytest.raises(services.ValidationError) as error:
        services.record_execution(
            withdrawal=withdrawal,
            by=bank_user,
            executed_on=timezone.localdate() + datetime.timedelta(days=1),
            amount=1_200_000,
            reference="A-1",
        )
    assert "executed_on" in error.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        services.record_execution(
            withdrawal=withdrawal,
            by=bank_user,
            executed_on=timezone.localdate(),
            amount=1_200_000,
            reference="A-1",
        )
    assert "払出が行われました" in mail.outbox[-1].subject

    position = selectors.position_of(account)
    assert position.paid_out == 1_200_000
    assert position.balance == 4_900_000 - 1_200_000
    assert [(p.line.key, p.paid, p.remaining) for p in position.lines if p.line.key == sub.key] == [
        (sub.key, 1_200_000, 1_200_000)
    ]


def test_a_refused_request_is_corrected_as_a_new_one_with_its_evidence(account, plan, bank_user):
    sub = line_of(plan, "subcontract")
    first = make_withdrawal(account, [(sub, 1_200_000)])
    with pytest.raises(services.ValidationError):
        services.reject_withdrawal(withdrawal=first, by=bank_user, reason="")
    services.reject_withdrawal(withdrawal=first, by=bank_user, reason="振込先の名義が相違")
    copy = services.copy_withdrawal(withdrawal=first, by=account.registered_by)
    assert (copy.number, copy.status, copy.replaces_id) == (2, W.DRAFT, first.pk)
    copied = [e.sha256 for line in copy.lines.all() for e in line.evidence.all()]
    original = [e.sha256 for line in first.lines.all() for e in line.evidence.all()]
    assert copied == original and len(copied) == 2
    assert problems_of(copy) == []


# Every move of the status table, allowed and refused --------------------------------------


def test_the_withdrawal_status_table_allows_exactly_its_moves(account):
    """Every pair of statuses: the table's moves happen (with their history row), every
    other is refused and changes nothing."""
    executed = {"executed_on": timezone.localdate(), "executed_amount": 1}
    for number, (old, new) in enumerate(((o, n) for o in W for n in W if o != n), 1):
        withdrawal = Withdrawal.objects.create(
            account=account,
            number=number,
            status=old,
            created_by=account.registered_by,
            **(executed if old == W.EXECUTED else {}),
        )
        values = executed | {"bank_reference": ""} if new == W.EXECUTED else {}
        if new in services.WITHDRAWAL_ALLOWED.get(old, set()):
            moved = services._move(withdrawal, to=new, by=account.registered_by, values=values)
            assert moved.status == new
            assert withdrawal.status_changes.filter(old_status=old, new_status=new).exists()
        else:
            with pytest.raises(services.TransitionError):
                services._move(withdrawal, to=new, by=account.registered_by, values=values)
            assert Withdrawal.objects.get(pk=withdrawal.pk).status == old, (old, new)
            assert not withdrawal.status_changes.exists()
