"""The clerk's pages of 前払金の使途管理: register the account, draft and submit the 明細書
(checked as typed), request a withdrawal with its evidence — and nothing of another
company's (404), nothing anonymously (login), nothing by the wrong method (405)."""

import json

import pytest
from django.urls import reverse
from django.utils.html import escape

from advances import forms, rules, services
from advances.models import AdvanceAccount, UsePlan, Withdrawal
from esure.wareki import yen
from tests.conftest import (
    ADVANCE_AMOUNT,
    evidence_file,
    line_of,
    make_advance_account,
    make_bank_branch,
    make_deposit,
    make_plan,
    make_registered_guarantee,
    use_category,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(clerk):
    return clerk.membership.company


@pytest.fixture
def guarantee(company):
    return make_registered_guarantee(company)


@pytest.fixture
def branch(db):
    return make_bank_branch()


@pytest.fixture
def account(guarantee, branch, clerk):
    return make_advance_account(guarantee, branch=branch, by=clerk)


def account_post(branch, **overrides):
    data = {
        "branch": str(branch.pk),
        "account_number": "１２３－４５６７",
        "holder": "ｶ)ACME ｾﾞﾝﾊﾞﾗｲ",
        "work_kind": "construction",
        "own_bank": "豊後テスト銀行",
        "own_branch": "本店",
        "own_account_type": "ordinary",
        "own_account_number": "7654321",
        "own_holder": "ｶ)ACME",
        **overrides,
    }
    return {k: v for k, v in data.items() if v is not None}


def formset_post(rows, action="save", **extra):
    """The plan form as a browser posts it: `rows` of {field: value} (plus 2 empty rows)."""
    data = {
        "lines-TOTAL_FORMS": str(len(rows) + 2),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "action": action,
        **extra,
    }
    for i, row in enumerate(rows):
        for name, value in row.items():
            data[f"lines-{i}-{name}"] = value
        data.setdefault(f"lines-{i}-funding", "advance")
    for i in range(len(rows), len(rows) + 2):
        data[f"lines-{i}-funding"] = "advance"
    return data


def typed(code, amount, **fields):
    return {
        "category": str(use_category(code).pk),
        "description": "生コンクリート",
        "payee_name": "津久見生コン株式会社",
        "payee_bank": "豊後テスト銀行",
        "payee_branch": "堅徳支店",
        "payee_account_type": "ordinary",
        "payee_account_number": "1111111",
        "payee_holder": "ﾂｸﾐﾅﾏｺﾝ(ｶ",
        "amount": amount,
        **fields,
    }


# Registering the account ---------------------------------------------------------------------


def test_the_list_offers_to_register_the_account(clerk_client, guarantee):
    response = clerk_client.get(reverse("advances:index"))
    assert guarantee.number_display in response.content.decode()
    assert reverse("advances:register", args=[guarantee.number]) in response.content.decode()


def test_only_branches_of_banks_with_a_contract_are_offered(clerk_client, guarantee, branch):
    make_bank_branch(bank_code="0998", bank_name="委託契約なし銀行", entrusted=False)
    response = clerk_client.get(reverse("advances:register", args=[guarantee.number]))
    html = response.content.decode()
    assert "豊後テスト銀行" in html and "委託契約なし銀行" not in html


def test_the_clerk_registers_the_account(clerk_client, guarantee, branch, clerk):
    response = clerk_client.post(
        reverse("advances:register", args=[guarantee.number]), account_post(branch)
    )
    account = AdvanceAccount.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("advances:account", args=[account.pk])
    assert (account.account_number, account.branch, account.registered_by) == (
        "1234567",
        branch,
        clerk,
    )
    assert account.guarantee == guarantee and account.state == AdvanceAccount.State.DESIGNATED


def test_a_wrong_account_number_is_said_next_to_the_field_and_the_input_kept(
    clerk_client, guarantee, branch
):
    response = clerk_client.post(
        reverse("advances:register", args=[guarantee.number]),
        account_post(branch, account_number="12345"),
    )
    assert response.status_code == 400
    assert escape(forms.MSG_ACCOUNT_NUMBER) in response.content.decode()
    assert 'value="ｶ)ACME ｾﾞﾝﾊﾞﾗｲ"' in response.content.decode()
    assert not AdvanceAccount.objects.exists()


def test_a_branch_without_a_contract_is_refused(clerk_client, guarantee):
    other = make_bank_branch(bank_code="0998", bank_name="委託契約なし銀行", entrusted=False)
    response = clerk_client.post(
        reverse("advances:register", args=[guarantee.number]), account_post(other)
    )
    assert response.status_code == 400
    assert not AdvanceAccount.objects.exists()


def test_a_construction_work_is_planned_as_construction_only(clerk_client, guarantee, branch):
    response = clerk_client.post(
        reverse("advances:register", args=[guarantee.number]),
        account_post(branch, work_kind="survey"),
    )
    assert response.status_code == 400
    assert not AdvanceAccount.objects.exists()


def test_a_cancelled_guarantee_gets_no_account(clerk_client, guarantee, branch):
    guarantee.cancelled_at = guarantee.concluded_at
    guarantee.save(update_fields=["cancelled_at"])
    response = clerk_client.post(
        reverse("advances:register", args=[guarantee.number]), account_post(branch)
    )
    assert response.status_code == 400
    assert services.MSG_CANCELLED in response.content.decode()
    assert not AdvanceAccount.objects.exists()


def test_a_registered_work_goes_to_its_account(clerk_client, account, guarantee):
    response = clerk_client.get(reverse("advances:register", args=[guarantee.number]))
    assert response["Location"] == reverse("advances:account", args=[account.pk])


def test_a_contract_guarantee_has_no_advance_to_manage(clerk_client, company):
    contract = make_registered_guarantee(company, kind="contract", amount=1_234_500)
    assert clerk_client.get(reverse("advances:register", args=[contract.number])).status_code == 404


# The 明細書 on the pages -----------------------------------------------------------------------


def test_the_clerk_drafts_saves_and_submits_the_plan(clerk_client, account, staff):
    response = clerk_client.post(reverse("advances:plan_start", args=[account.pk]))
    assert response["Location"] == reverse("advances:plan_edit", args=[account.pk])
    assert clerk_client.get(response["Location"]).status_code == 200

    rows = [typed("material", "2,000,000"), typed("labor", "２９０００００", payee_name="")]
    response = clerk_client.post(
        reverse("advances:plan_edit", args=[account.pk]), formset_post(rows)
    )
    assert response.status_code == 302
    plan = UsePlan.objects.get()
    assert sorted(plan.lines.values_list("amount", flat=True)) == [2_000_000, 2_900_000]

    short = formset_post([typed("material", "2,000,000")], action="submit")
    response = clerk_client.post(reverse("advances:plan_edit", args=[account.pk]), short)
    assert response.status_code == 400
    message = rules.MSG_TOTAL_SHORT.format(
        funding="前払金", total=yen(2_000_000), amount=yen(ADVANCE_AMOUNT), short=yen(2_900_000)
    )
    assert escape(message) in response.content.decode()
    assert UsePlan.objects.get().status == UsePlan.Status.DRAFT

    response = clerk_client.post(
        reverse("advances:plan_edit", args=[account.pk]), formset_post(rows, action="submit")
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == UsePlan.Status.SUBMITTED
    pdf = clerk_client.get(reverse("advances:plan_pdf", args=[account.pk, 1]))
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_the_plan_is_checked_as_typed(clerk_client, account):
    services.start_plan(account=account, by=account.registered_by)
    rows = [typed("material", "4,000,000"), typed("overhead", "1,225,001", payee_name="")]
    url = reverse("advances:plan_check", args=[account.pk])
    data = json.loads(clerk_client.post(url, formset_post(rows)).content)

    limit = rules.MSG_OVERHEAD_LIMIT.format(
        funding="前払金", limit=yen(1_225_000), total=yen(1_225_001)
    )
    assert data["lines"] == {"1": {"category": [rules.MSG_OVERHEAD_NO_CLAUSE], "amount": [limit]}}
    assert data["totals"] == {"advance": 5_225_001}
    assert data["general"] == [
        rules.MSG_TOTAL_OVER.format(
            funding="前払金", total=yen(5_225_001), amount=yen(ADVANCE_AMOUNT)
        )
    ]
    assert not UsePlan.objects.get().lines.exists()  # nothing saved


def test_a_use_outside_the_kind_of_work_is_not_even_offered(clerk_client, account):
    services.start_plan(account=account, by=account.registered_by)
    page = clerk_client.get(reverse("advances:plan_edit", args=[account.pk])).content.decode()
    assert "材料費" in page and "交通通信費" not in page and "外注費" not in page
    url = reverse("advances:plan_check", args=[account.pk])
    data = json.loads(clerk_client.post(url, formset_post([typed("travel", "1")])).content)
    assert list(data["lines"]) == ["0"] and len(data["lines"]["0"]["category"]) == 1


def test_the_account_page_shows_the_plan_and_the_balance_by_line(clerk_client, account):
    plan = make_plan(account)
    make_deposit(account)
    response = clerk_client.get(reverse("advances:account", args=[account.pk]))
    html = response.content.decode()
    assert "第1版" in html and "津久見資材株式会社" in html
    assert "金4,900,000円" in html
    assert reverse("advances:withdrawal_new", args=[account.pk]) in html
    assert line_of(plan, "material").description in html


# Withdrawals on the pages ----------------------------------------------------------------


@pytest.fixture
def plan(account):
    make_deposit(account)
    return make_plan(account)


def test_the_clerk_requests_a_withdrawal_with_evidence_and_sends_it(clerk_client, account, plan):
    sub = line_of(plan, "subcontract")
    url = reverse("advances:withdrawal_new", args=[account.pk])
    assert clerk_client.get(url).status_code == 200
    response = clerk_client.post(url, {f"line_{sub.pk}": "1,200,000"})
    withdrawal = Withdrawal.objects.get()
    assert response["Location"] == reverse("advances:withdrawal", args=[account.pk, 1])
    page = clerk_client.get(response["Location"]).content.decode()
    assert "施工体制台帳" in page and "金1,200,000円" in page

    line = withdrawal.lines.get()
    evidence_url = reverse("advances:evidence_add", args=[account.pk, 1])
    for kind in line.plan_line.category.evidence_kinds.all():
        response = clerk_client.post(
            evidence_url, {"line": line.pk, "kind": kind.pk, "file": evidence_file()}
        )
        assert response.status_code == 302
    response = clerk_client.post(reverse("advances:withdrawal_submit", args=[account.pk, 1]))
    assert response.status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.SUBMITTED
    pdf = clerk_client.get(reverse("advances:withdrawal_pdf", args=[account.pk, 1]))
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_sending_without_the_evidence_is_refused_with_the_reason(clerk_client, account, plan):
    sub = line_of(plan, "subcontract")
    clerk_client.post(
        reverse("advances:withdrawal_new", args=[account.pk]), {f"line_{sub.pk}": "100"}
    )
    response = clerk_client.post(
        reverse("advances:withdrawal_submit", args=[account.pk, 1]), follow=True
    )
    assert "施工体制台帳" in response.content.decode()
    assert Withdrawal.objects.get().status == Withdrawal.Status.DRAFT


def test_an_empty_withdrawal_form_says_so(clerk_client, account, plan):
    response = clerk_client.post(reverse("advances:withdrawal_new", args=[account.pk]), {})
    assert response.status_code == 400
    assert "払い出す金額を1つ以上入力してください。" in response.content.decode()


# Scope, methods, anonymity ---------------------------------------------------------------


def account_urls(account, withdrawal, evidence):
    pk, n = account.pk, withdrawal.number
    return [
        ("get", reverse("advances:account", args=[pk])),
        ("get", reverse("advances:plan_detail", args=[pk, 1])),
        ("get", reverse("advances:plan_pdf", args=[pk, 1])),
        ("post", reverse("advances:plan_start", args=[pk])),
        ("get", reverse("advances:plan_edit", args=[pk])),
        ("post", reverse("advances:plan_check", args=[pk])),
        ("post", reverse("advances:plan_discard", args=[pk])),
        ("get", reverse("advances:withdrawal_new", args=[pk])),
        ("get", reverse("advances:withdrawal", args=[pk, n])),
        ("get", reverse("advances:withdrawal_edit", args=[pk, n])),
        ("post", reverse("advances:withdrawal_submit", args=[pk, n])),
        ("post", reverse("advances:withdrawal_cancel", args=[pk, n])),
        ("post", reverse("advances:withdrawal_copy", args=[pk, n])),
        ("post", reverse("advances:evidence_add", args=[pk, n])),
        ("get", reverse("advances:evidence_file", args=[pk, n, evidence.pk])),
        ("post", reverse("advances:evidence_remove", args=[pk, n, evidence.pk])),
        ("get", reverse("advances:withdrawal_pdf", args=[pk, n])),
    ]


@pytest.fixture
def draft_withdrawal(account, plan):
    withdrawal = services.save_withdrawal_draft(
        account=account,
        by=account.registered_by,
        rows=[{"plan_line": line_of(plan, "subcontract"), "amount": 100}],
    )
    line = withdrawal.lines.get()
    kind = line.plan_line.category.evidence_kinds.first()
    evidence = services.add_evidence(
        line=line, kind=kind, upload=evidence_file(), by=account.registered_by
    )
    return withdrawal, evidence


def test_another_company_finds_nothing(
    client_for, other_clerk, account, draft_withdrawal, guarantee
):
    browser = client_for(other_clerk)
    withdrawal, evidence = draft_withdrawal
    for method, url in account_urls(account, withdrawal, evidence):
        assert getattr(browser, method)(url).status_code == 404, url
    assert browser.get(reverse("advances:register", args=[guarantee.number])).status_code == 404
    assert guarantee.number_display not in browser.get(reverse("advances:index")).content.decode()
    assert Withdrawal.objects.get().lines.get().evidence.count() == 1  # nothing removed


def test_anonymous_visitors_are_sent_to_log_in(client, account, draft_withdrawal):
    withdrawal, evidence = draft_withdrawal
    for method, url in account_urls(account, withdrawal, evidence):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("post", "advances:index", []),
        ("get", "advances:plan_start", ["pk"]),
        ("get", "advances:plan_check", ["pk"]),
        ("get", "advances:withdrawal_submit", ["pk", 1]),
        ("delete", "advances:account", ["pk"]),
        ("put", "advances:plan_edit", ["pk"]),
    ],
)
def test_the_wrong_method_is_405(clerk_client, account, method, name, args):
    url = reverse(name, args=[account.pk if a == "pk" else a for a in args])
    assert getattr(clerk_client, method)(url).status_code == 405


def test_the_evidence_file_is_served_to_its_company_as_a_download(
    clerk_client, account, draft_withdrawal
):
    withdrawal, evidence = draft_withdrawal
    response = clerk_client.get(
        reverse("advances:evidence_file", args=[account.pk, withdrawal.number, evidence.pk])
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
