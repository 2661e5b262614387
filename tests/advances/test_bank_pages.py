"""The bank user's pages (預託金融機関の担当者): only the accounts and requests of their own
branch (404 for any other, and for anyone who is not a bank user), the checks esure made,
confirmation, refusal with a reason, the execution (払出報告) and deposits."""

import pytest
from django.urls import reverse
from django.utils import timezone

from advances import rules
from advances.models import Deposit, Withdrawal
from esure.wareki import yen
from tests.conftest import (
    line_of,
    make_advance_account,
    make_bank_branch,
    make_bank_user,
    make_deposit,
    make_plan,
    make_withdrawal,
)

W = Withdrawal.Status
pytestmark = pytest.mark.django_db
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.fixture
def branch(db):
    return make_bank_branch()


@pytest.fixture
def banker(branch):
    return make_bank_user(branch, email="madoguchi@bungo-bank.example.jp")


@pytest.fixture
def account(branch, banker):
    account = make_advance_account(branch=branch)
    make_deposit(account, by=banker)
    return account


@pytest.fixture
def plan(account):
    return make_plan(account)


@pytest.fixture
def withdrawal(account, plan):
    return make_withdrawal(account, [(line_of(plan, "subcontract"), 1_200_000)])


@pytest.fixture
def bank_client(client_for, banker):
    return client_for(banker)


def test_the_branch_sees_its_waiting_requests_and_accounts(bank_client, withdrawal, account):
    html = bank_client.get(reverse("bank:index")).content.decode()
    assert withdrawal.reference in html
    assert account.account_number in html and account.company.name in html


def test_the_request_shows_the_checks_and_the_evidence(bank_client, withdrawal):
    html = bank_client.get(reverse("bank:withdrawal", args=[withdrawal.pk])).content.decode()
    assert "保証会社が承認した明細書（第1版）" in html
    assert "下請契約書" in html and "施工体制台帳" in html
    assert "津久見資材株式会社" in html and "1111111" in html
    assert "金1,200,000円" in html


def test_the_bank_confirms_and_records_the_execution(bank_client, withdrawal, account):
    response = bank_client.post(reverse("bank:confirm", args=[withdrawal.pk]))
    assert response.status_code == 302
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == W.CONFIRMED
    response = bank_client.post(
        reverse("bank:execute", args=[withdrawal.pk]),
        {
            "executed_on": timezone.localdate().isoformat(),
            "amount": "1,200,000",
            "reference": "TX-1",
        },
    )
    assert response.status_code == 302
    executed = Withdrawal.objects.get(pk=withdrawal.pk)
    assert (executed.status, executed.executed_amount, executed.bank_reference) == (
        W.EXECUTED,
        1_200_000,
        "TX-1",
    )
    html = bank_client.get(reverse("bank:account", args=[account.pk])).content.decode()
    assert "金3,700,000円" in html  # the balance


def test_an_execution_of_another_amount_is_refused_beside_the_field(
    bank_client, withdrawal, banker
):
    from advances import services

    services.confirm_withdrawal(withdrawal=withdrawal, by=banker)
    response = bank_client.post(
        reverse("bank:execute", args=[withdrawal.pk]),
        {"executed_on": timezone.localdate().isoformat(), "amount": "1,000,000"},
    )
    assert response.status_code == 400
    assert "払出額 1,000,000円 が依頼額 1,200,000円 と一致しません。" in response.content.decode()


def test_a_refusal_needs_a_reason_the_clerk_reads(bank_client, client_for, withdrawal, account):
    response = bank_client.post(reverse("bank:reject", args=[withdrawal.pk]), {"reason": ""})
    assert response.status_code == 400
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == W.SUBMITTED
    bank_client.post(reverse("bank:reject", args=[withdrawal.pk]), {"reason": "名義相違"})
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == W.REJECTED
    clerk_page = client_for(account.registered_by).get(
        reverse("advances:withdrawal", args=[account.pk, withdrawal.number])
    )
    assert "名義相違" in clerk_page.content.decode()


def test_the_bank_cannot_confirm_beyond_the_balance(bank_client, account, withdrawal):
    # Checked again at confirmation: here the advance turned out not to be there.
    Deposit.objects.filter(account=account).delete()
    response = bank_client.post(reverse("bank:confirm", args=[withdrawal.pk]), follow=True)
    assert "払出可能残高" in response.content.decode()
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == W.SUBMITTED


def test_the_bank_records_a_deposit(bank_client, account):
    response = bank_client.post(
        reverse("bank:deposit", args=[account.pk]),
        {"kind": "interest", "received_on": timezone.localdate().isoformat(), "amount": "１２３"},
    )
    assert response.status_code == 302
    assert account.deposits.filter(kind="interest", amount=123).exists()


def test_the_bank_types_the_deposit_day_from_paper_in_wareki(bank_client, account):
    day = timezone.localdate() - timezone.timedelta(days=1)
    typed = f"令和{day.year - 2018}年{day.month}月{day.day}日".translate(FULL_WIDTH)
    response = bank_client.post(
        reverse("bank:deposit", args=[account.pk]),
        {"kind": "interest", "received_on": typed, "amount": "123"},
    )
    assert response.status_code == 302
    assert account.deposits.get(kind="interest").received_on == day


def test_a_day_of_an_ended_era_is_refused_and_kept_as_typed(bank_client, account):
    response = bank_client.post(
        reverse("bank:deposit", args=[account.pk]),
        {"kind": "interest", "received_on": "平成31年5月1日", "amount": "123"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "平成は平成31年4月30日までです。" in page and 'value="平成31年5月1日"' in page
    assert not account.deposits.filter(kind="interest").exists()


def test_a_deposit_in_the_future_is_refused(bank_client, account):
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    response = bank_client.post(
        reverse("bank:deposit", args=[account.pk]),
        {"kind": "advance", "received_on": tomorrow.isoformat(), "amount": "1"},
    )
    assert response.status_code == 400
    assert "未来の日付は入力できません。" in response.content.decode()


# Scope -------------------------------------------------------------------------------------


def bank_urls(account, withdrawal):
    evidence = withdrawal.lines.get().evidence.first()
    return [
        ("get", reverse("bank:account", args=[account.pk])),
        ("post", reverse("bank:deposit", args=[account.pk])),
        ("get", reverse("bank:plan_pdf", args=[account.pk, 1])),
        ("get", reverse("bank:withdrawal", args=[withdrawal.pk])),
        ("post", reverse("bank:confirm", args=[withdrawal.pk])),
        ("post", reverse("bank:reject", args=[withdrawal.pk])),
        ("post", reverse("bank:execute", args=[withdrawal.pk])),
        ("get", reverse("bank:evidence_file", args=[withdrawal.pk, evidence.pk])),
        ("get", reverse("bank:withdrawal_pdf", args=[withdrawal.pk])),
    ]


def test_another_branch_finds_nothing(client_for, account, withdrawal):
    other = make_bank_user(make_bank_branch(code="102", name="臼杵支店"))
    browser = client_for(other)
    for method, url in bank_urls(account, withdrawal):
        assert getattr(browser, method)(url).status_code == 404, url
    assert withdrawal.reference not in browser.get(reverse("bank:index")).content.decode()
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == W.SUBMITTED


def test_who_is_not_a_bank_user_finds_no_bank_page(
    client_for, account, withdrawal, clerk, other_clerk, staff
):
    urls = [("get", reverse("bank:index")), *bank_urls(account, withdrawal)]
    for user in (clerk, other_clerk, staff):
        browser = client_for(user)
        for method, url in urls:
            assert getattr(browser, method)(url).status_code == 404, (user, url)


def test_a_draft_never_reaches_the_bank(bank_client, account, plan):
    draft = make_withdrawal(account, [(line_of(plan, "material"), 100)], status="draft")
    assert bank_client.get(reverse("bank:withdrawal", args=[draft.pk])).status_code == 404
    assert draft.reference not in bank_client.get(reverse("bank:index")).content.decode()


def test_a_plan_not_yet_accepted_is_not_the_banks(bank_client, account):
    make_plan(account, status="submitted")
    assert bank_client.get(reverse("bank:plan_pdf", args=[account.pk, 1])).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, account, withdrawal):
    for method, url in [("get", reverse("bank:index")), *bank_urls(account, withdrawal)]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


@pytest.mark.parametrize(
    ("method", "name", "pk"),
    [
        ("post", "bank:index", False),
        ("get", "bank:confirm", True),
        ("get", "bank:reject", True),
        ("get", "bank:execute", True),
        ("post", "bank:withdrawal", True),
    ],
)
def test_the_wrong_method_is_405(bank_client, method, name, pk):
    # The method is checked before anything is looked up: no request needs to exist.
    url = reverse(name, args=[1] if pk else [])
    assert getattr(bank_client, method)(url).status_code == 405


def test_the_rule_messages_are_the_rules(bank_client, account, plan):
    # Sanity: what the bank reads as a failed check is rules' own message.
    withdrawal = make_withdrawal(account, [(line_of(plan, "material"), 100)])
    Deposit.objects.filter(account=account).delete()
    html = bank_client.get(reverse("bank:withdrawal", args=[withdrawal.pk])).content.decode()
    assert rules.MSG_BALANCE.format(available=yen(0), amount=yen(100)) in html
