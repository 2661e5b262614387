"""`manage.py load_demo_advances` (after load_demo, in `make run`): a demo bank branch, its
bank user and the demo 前払金保証's designated account with the advance paid in."""

import io

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import BankMembership, User
from advances.models import AdvanceAccount

BANK = ("bank@demo.esure.example", "demo-bank-branch-2026")


def load():
    out = io.StringIO()
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo_advances", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(settings, db):
    settings.ESURE_DEMO_ALLOWED = True
    return load()


def test_the_demo_has_a_bank_user_at_the_branch_of_the_demo_account(demo):
    banker = User.objects.get(email=BANK[0])
    assert banker.check_password(BANK[1])
    membership = BankMembership.objects.get(user=banker)
    account = AdvanceAccount.objects.get()
    assert account.branch == membership.branch
    assert str(account.branch) == "デモ銀行 津久見支店" and account.branch.bank.entrusted
    assert account.deposits.get().amount == 4_900_000
    assert f"{BANK[0]} / {BANK[1]}" in demo


def test_the_demo_bank_user_sees_the_account(settings, client, demo):
    settings.ESURE_BANK_MFA_REQUIRED = False  # as the demo's var/.env has it
    client.force_login(User.objects.get(email=BANK[0]))
    page = client.get(reverse("bank:index")).content.decode()
    assert AdvanceAccount.objects.get().account_number in page


def test_loading_twice_adds_nothing(demo):
    counts = {m._meta.label: m._default_manager.count() for m in apps.get_models()}
    load()
    assert counts == {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def test_never_outside_debug(settings, db):
    settings.ESURE_DEMO_ALLOWED = False
    with pytest.raises(CommandError):
        call_command("load_demo_advances", stdout=io.StringIO())
