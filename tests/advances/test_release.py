"""指定解除 on 完成 (decision 0026): completing a 前払金保証 releases its designated account in
the same transaction, whoever records it; a released account refuses every withdrawal (rule
in advances.rules) and deposit, and shows 指定解除 with its remaining balance to the
contractor, the bank and staff."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from advances import rules, selectors, services
from advances.models import AdvanceAccount, Withdrawal
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
W = Withdrawal.Status
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


def test_the_release_closes_the_requests_the_bank_had_not_confirmed(
    account, bank_user, settings, django_capture_on_commit_callbacks
):
    settings.ESURE_ADVANCE_CASH_LIMIT = 1_000_000
    plan = make_plan(account)
    labor = line_of(plan, "labor")
    executed = make_withdrawal(account, [(labor, 100_000)], status="executed", bank_user=bank_user)
    confirmed = make_withdrawal(
        account, [(labor, 110_000)], status="confirmed", bank_user=bank_user
    )
    sent = make_withdrawal(account, [(labor, 120_000)])
    cash = make_withdrawal(account, [(labor, 130_000)], cash=True)
    draft = make_withdrawal(account, [(labor, 140_000)], status="draft")
    assert cash.status == W.CASH_REVIEW
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        complete(account.guarantee)

    status = {w.pk: w.status for w in Withdrawal.objects.all()}
    assert status == {
        executed.pk: W.EXECUTED,
        confirmed.pk: W.CONFIRMED,  # the bank may have paid: it still reports the execution
        sent.pk: W.VOIDED,
        cash.pk: W.VOIDED,
        draft.pk: W.DRAFT,  # never left the clerk; it can no longer be sent
    }
    for withdrawal in (sent, cash):
        last = withdrawal.status_changes.last()
        assert (last.new_status, last.note) == (
            W.VOIDED,
            "前払金専用口座の指定解除（工事の完成、令和8年11月30日）により取消",
        )
    voided = AuditEvent.objects.filter(action="withdrawal.voided").order_by("seq")
    assert [e.data["number"] for e in voided] == [sent.number, cash.number]
    released = AuditEvent.objects.get(action="advance_account.released")
    assert released.data["voided"] == [sent.number, cash.number]
    # A closed request no longer holds money: only the executed one is out of the balance
    # and the confirmed one is still reserved.
    position = selectors.position_of(account)
    assert position.balance == 4_900_000 - 100_000
    assert position.available == 4_900_000 - 100_000 - 110_000

    [bank_mail] = [m for m in mail.outbox if bank_user.email in m.to]
    assert f"払出依頼 第{sent.number}号" in bank_mail.body
    assert f"払出依頼 第{cash.number}号" in bank_mail.body
    assert f"第{confirmed.number}号" not in bank_mail.body and "120,000" not in bank_mail.body
    [clerk_mail] = [m for m in mail.outbox if m.subject.endswith("払出依頼が取り消されました")]
    assert account.registered_by.email in clerk_mail.to
    assert f"払出依頼 第{sent.number}号" in clerk_mail.body


def test_a_release_without_waiting_requests_mails_the_contractor_nothing_more(
    account, django_capture_on_commit_callbacks
):
    make_plan(account)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        complete(account.guarantee)
    assert not [m for m in mail.outbox if "払出依頼が取り消されました" in m.subject]
    assert AuditEvent.objects.get(action="advance_account.released").data["voided"] == []


def test_a_closed_request_cannot_be_confirmed_refused_cancelled_or_copied(account, bank_user):
    plan = make_plan(account)
    withdrawal = make_withdrawal(account, [(line_of(plan, "labor"), 300_000)])
    complete(account.guarantee)
    clerk = account.registered_by
    for attempt in (
        lambda: services.confirm_withdrawal(withdrawal=withdrawal, by=bank_user),
        lambda: services.reject_withdrawal(withdrawal=withdrawal, by=bank_user, reason="x"),
        lambda: services.cancel_withdrawal(withdrawal=withdrawal, by=clerk),
        lambda: services.copy_withdrawal(withdrawal=withdrawal, by=clerk),
    ):
        with pytest.raises(ValidationError):
            attempt()
    assert Withdrawal.objects.get().status == W.VOIDED


def test_only_the_release_closes_a_request(account):
    plan = make_plan(account)
    draft = make_withdrawal(account, [(line_of(plan, "labor"), 300_000)], status="draft")
    assert W.VOIDED not in services.WITHDRAWAL_ALLOWED[W.DRAFT]
    assert W.VOIDED not in services.WITHDRAWAL_ALLOWED[W.CONFIRMED]
    with pytest.raises(services.TransitionError):
        services._move(draft, to=W.VOIDED, by=account.registered_by)


def test_the_contractor_and_the_bank_read_why_a_request_was_closed(
    account, bank_user, clerk_client, client_for
):
    plan = make_plan(account)
    withdrawal = make_withdrawal(account, [(line_of(plan, "labor"), 300_000)])
    complete(account.guarantee)
    note = "前払金専用口座の指定解除（工事の完成、令和8年11月30日）により取消"
    pages = [
        (clerk_client, reverse("advances:withdrawal", args=[account.pk, withdrawal.number])),
        (client_for(bank_user), reverse("bank:withdrawal", args=[withdrawal.pk])),
    ]
    for browser, url in pages:
        html = browser.get(url).content.decode()
        assert "取消（指定解除）" in html and note in html
        assert "取り下げる" not in html and "確認する" not in html
    account_page = clerk_client.get(reverse("advances:account", args=[account.pk]))
    assert "取消（指定解除）" in account_page.content.decode()


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
    def broken(account, **kwargs):
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
