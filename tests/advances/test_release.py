"""指定解除 on 完成 (decision 0026): completing a 前払金保証 releases its designated account in
the same transaction, whoever records it; a released account refuses every withdrawal (rule
in advances.rules) and deposit, and shows 指定解除 with its remaining balance to the
contractor, the bank and staff."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from advances import rules, services
from advances.models import AdvanceAccount
from audit.models import AuditEvent
from certificates import services as registry
from esure.choices import GuaranteeKind
from tests.conftest import (
    WORK_DATES,
    line_of,
    make_advance_account,
    make_bank_branch,
    make_bank_user,
    make_deposit,
    make_plan,
    make_registered_guarantee,
    make_staff,
    make_withdrawal,
)

pytestmark = pytest.mark.usefixtures("frozen")
TODAY = datetime.date(2026, 11, 30)  # tests.conftest.NOW


@pytest.fixture
def bank_user(db):
    return make_bank_user(make_bank_branch(), email="madoguchi@bungo-bank.example.jp")


@pytest.fixture
def account(bank_user, clerk):
    guarantee = make_registered_guarantee(clerk.membership.company, **WORK_DATES)
    account = make_advance_account(guarantee, by=clerk)
    make_deposit(account, by=bank_user)
    return account


def complete(guarantee, day=TODAY):
    return registry.record_completion(
        guarantee=guarantee, completed_on=day, by=make_staff(), note="完成通知"
    )


def test_completing_the_advance_guarantee_releases_its_account(
    account, bank_user, django_capture_on_commit_callbacks
):
    plan = make_plan(account)
    make_withdrawal(
        account, [(line_of(plan, "labor"), 300_000)], status="executed", bank_user=bank_user
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        complete(account.guarantee)

    account.refresh_from_db()
    assert account.state == AdvanceAccount.State.RELEASED
    assert account.released_on == TODAY
    event = AuditEvent.objects.get(action="advance_account.released")
    assert event.data["balance"] == 4_900_000 - 300_000
    [bank_mail] = [m for m in mail.outbox if bank_user.email in m.to]
    assert "指定解除" in bank_mail.subject and "300,000" not in bank_mail.body


def test_the_contractor_and_the_bank_see_released_and_the_remaining_balance(
    account, bank_user, clerk_client, client_for
):
    complete(account.guarantee)
    for browser, url in [
        (clerk_client, reverse("advances:account", args=[account.pk])),
        (client_for(bank_user), reverse("bank:account", args=[account.pk])),
    ]:
        html = browser.get(url).content.decode()
        assert "指定解除</strong> 令和8年11月30日" in html
        assert "残高 金4,900,000円" in html


def test_staff_see_the_released_state_in_admin(account, client_for):
    complete(account.guarantee)
    browser = client_for(make_staff(perms=["advances.view_advanceaccount"]))
    listing = browser.get(reverse("admin:advances_advanceaccount_changelist")).content.decode()
    assert "指定解除" in listing and "4,900,000円" in listing


def test_a_released_account_refuses_a_withdrawal_already_sent_to_the_bank(account, bank_user):
    plan = make_plan(account)
    withdrawal = make_withdrawal(account, [(line_of(plan, "labor"), 300_000)])
    complete(account.guarantee)

    with pytest.raises(ValidationError) as error:
        services.confirm_withdrawal(withdrawal=withdrawal, by=bank_user)
    assert error.value.messages == [rules.MSG_RELEASED]


def test_a_released_account_refuses_a_new_withdrawal_and_a_deposit(account, bank_user):
    make_plan(account)
    complete(account.guarantee)
    with pytest.raises(ValidationError):
        services.save_withdrawal_draft(account=account, by=account.registered_by, rows=[])
    with pytest.raises(ValidationError):
        make_deposit(account, 1, kind="interest", by=bank_user)


def test_the_withdrawal_rule_refuses_everything_once_released():
    problems = rules.withdrawal_problems(
        plan_in_force=None,
        lines=[],
        committed={},
        interest_available=0,
        available_balance=10**9,
        evidence_kinds={},
        cash=False,
        cash_limit=0,
        released=True,
    )
    assert problems.messages() == [rules.MSG_RELEASED]


def test_completing_a_contract_guarantee_leaves_the_account_designated(account, clerk):
    contract = make_registered_guarantee(
        clerk.membership.company, work=account.work, kind=GuaranteeKind.CONTRACT, amount=1_234_500
    )
    complete(contract)
    account.refresh_from_db()
    assert account.state == AdvanceAccount.State.DESIGNATED


def test_a_release_is_done_once(account):
    services.release_account(account=account, by=make_staff(), on=TODAY)
    with pytest.raises(ValidationError) as error:
        services.release_account(account=account, by=make_staff(), on=TODAY)
    assert error.value.messages == [services.MSG_ALREADY_RELEASED]


def test_a_failing_release_rolls_the_completion_back(account, monkeypatch):
    def broken(account):
        raise RuntimeError("the bank's mail could not be queued")

    monkeypatch.setattr(services.notifications, "account_released", broken)
    with pytest.raises(RuntimeError):
        complete(account.guarantee)
    account.guarantee.refresh_from_db()
    assert account.guarantee.completed_on is None


def test_no_account_is_registered_for_a_completed_guarantee(clerk):
    guarantee = make_registered_guarantee(clerk.membership.company, **WORK_DATES)
    complete(guarantee)
    guarantee.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        make_advance_account(guarantee, by=clerk)
    assert error.value.messages == [services.MSG_COMPLETED]
