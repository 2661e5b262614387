"""前払金の使途管理 in a browser (issue #17): the clerk registers the designated account and
submits a 明細書 with a 25% line for 現場管理費等; staff accept it in admin; the bank user
records the advance paid in; the clerk requests a withdrawal to a subcontractor with its
evidence; the bank user confirms it against the plan and records the execution; the clerk
sees the new balance by line. Screenshots: var/e2e/advance-*."""

import datetime

import pytest
from django.conf import settings

from advances.models import UsePlan, Withdrawal
from tests.conftest import (
    make_bank_branch,
    make_bank_user,
    make_company,
    make_member,
    make_orderer,
    make_registered_guarantee,
    make_staff,
    seed_advance_lists,
)
from tests.e2e.conftest import expect, shot, totp_code
from tests.e2e.test_application_flow import control, log_in
from tests.e2e.test_issuance_flow import STAFF_EMAIL, staff_log_in

pytestmark = pytest.mark.e2e

CLERK_EMAIL = "keiyaku@tsukumi-kensetsu.example.jp"
BANK_EMAIL = "madoguchi@bungo-bank.example.jp"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # the tests' authenticators
WORK_NAME = "市道堅徳線道路改良工事"
SUBCONTRACTOR = "株式会社津久見土木"
# A tiny but real PDF: what the clerk scans the subcontract into.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def bank_log_in(page):
    """Password, then the authenticator code (TOTP is required for bank users)."""
    log_in(page, BANK_EMAIL)
    control(page, "コード").fill(totp_code(TOTP_SECRET))
    page.get_by_role("main").get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("main")).to_contain_text("津久見支店（預託金融機関）")


def fill_line(page, n, category, amount, payee=None):
    row = page.get_by_role("group", name=f"明細 {n}")
    control(row, "区分").select_option(label=category)
    control(row, "内容").fill("一式" if payee is None else f"{category}（{payee}）")
    if payee:
        control(row, "支払先").fill(payee)
        control(row, "振込先金融機関").fill("豊後テスト銀行")
        control(row, "振込先支店").fill("堅徳支店")
        control(row, "種別").select_option(label="普通")
        control(row, "口座番号").fill("2222222")
        control(row, "口座名義").fill("ｶ)ﾂｸﾐﾄﾞﾎﾞｸ")
    control(row, "金額（円）").fill(amount)


def test_account_plan_acceptance_withdrawal_bank_confirmation_and_balance(new_page):
    seed_advance_lists()
    tsukumi = make_orderer(advance_overhead_since=datetime.date(2024, 10, 1))
    company = make_company(name="津久見建設株式会社")
    make_member(company, email=CLERK_EMAIL)
    make_staff(email=STAFF_EMAIL)
    branch = make_bank_branch()
    make_bank_user(branch, email=BANK_EMAIL)
    guarantee = make_registered_guarantee(company, name=WORK_NAME, orderer=tsukumi)

    # 1. The clerk goes from HOME to 前払金の使途管理 and registers the account.
    clerk = new_page()
    log_in(clerk, CLERK_EMAIL)
    main = clerk.get_by_role("main")
    main.get_by_role("link", name="前払金の使途管理（専用口座・使途内訳明細書・払出依頼）").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("前払金の使途管理")
    main.get_by_role("row").filter(has_text=guarantee.number_display).get_by_role(
        "link", name="口座を登録する"
    ).click()
    control(clerk, "預託金融機関・支店").select_option(label="津久見支店（101）")
    control(clerk, "口座番号（別口普通預金）").fill("１２３４５６７")
    control(clerk, "口座名義").fill("ｶ)ﾂｸﾐｹﾝｾﾂ ｾﾞﾝﾊﾞﾗｲｷﾝｸﾞﾁ")
    expect(
        control(
            clerk,
            "契約に、前払金を現場管理費・一般管理費等（前払金額の25%まで）に充当できる特約がある",
        )
    ).to_be_checked()  # 津久見市 adopted the 25% rule: the default follows its policy
    control(clerk, "自社口座の金融機関").fill("豊後テスト銀行")
    control(clerk, "自社口座の支店").fill("本店")
    control(clerk, "自社口座の口座番号").fill("7654321")
    control(clerk, "自社口座の名義").fill("ｶ)ﾂｸﾐｹﾝｾﾂ")
    shot(clerk, "advance-01-register-account")
    main.get_by_role("button", name="口座を登録する").click()
    expect(main).to_contain_text("前払金専用口座を登録しました。")
    expect(main).to_contain_text("豊後テスト銀行 津久見支店 別口普通預金 1234567")

    # 2. The 明細書: materials, a subcontractor and the 25% line, checked as typed.
    main.get_by_role("button", name="明細書を作成する").click()
    fill_line(clerk, 1, "材料費", "1,675,000", payee="大分生コン株式会社")
    fill_line(clerk, 2, "下請代金", "2,000,000", payee=SUBCONTRACTOR)
    fill_line(clerk, 3, "現場管理費・一般管理費等", "1,225,001")
    overhead = clerk.get_by_role("group", name="明細 3")
    expect(overhead).to_contain_text("前払金額の25%（1,225,000円）までです")
    control(overhead, "金額（円）").fill("1,225,000")
    expect(clerk.locator("[data-total=advance]")).to_have_text("金4,900,000円")
    expect(overhead).not_to_contain_text("25%（1,225,000円）まで")
    shot(clerk, "advance-02-plan")
    main.get_by_role("button", name="保証会社に提出する").click()
    expect(main).to_contain_text("明細書（第1版）を保証会社に提出しました。")
    plan = UsePlan.objects.get()
    assert plan.status == UsePlan.Status.SUBMITTED and plan.pdf_sha256

    # 3. Staff accept it in admin.
    staff = new_page()
    staff_log_in(staff)
    staff.goto(f"/{settings.ESURE_ADMIN_PATH}advances/useplan/{plan.pk}/change/")
    expect(staff.locator(".review-box")).to_contain_text(
        "規則（使途の区分・25%・合計・支払先）をすべて満たしています。"
    )
    shot(staff, "advance-03-admin-plan")
    staff.locator(".review-box").get_by_role("button", name="承認").click()
    expect(staff.locator(".messagelist .success")).to_have_text("明細書 第1版 を承認しました。")

    # 4. The orderer pays the advance in; the bank user records it.
    bank = new_page()
    bank_log_in(bank)
    bank_main = bank.get_by_role("main")
    bank_main.get_by_role("link", name="払出依頼・前払金専用口座の一覧").click()
    bank_main.get_by_role("link", name="1234567").click()
    expect(bank_main).to_contain_text("第1版")
    control(bank, "金額（円）").fill("4,900,000")
    control(bank, "取引番号").fill("NYUKIN-0001")
    bank_main.get_by_role("button", name="入金を記録する").click()
    expect(bank_main).to_contain_text("入金を記録しました。")

    # 5. The clerk requests 1,200,000円 for the subcontractor, with its evidence, and sends it.
    clerk.reload()
    main.get_by_role("link", name="払出依頼を作成する").click()
    row = main.get_by_role("row").filter(has_text=SUBCONTRACTOR)
    row.get_by_role("textbox").fill("1,200,000")
    main.get_by_role("button", name="保存して証憑の添付へ進む").click()
    expect(main).to_contain_text("証憑「下請契約書」「施工体制台帳」の添付が必要です")
    for kind, name in (
        ("下請契約書", "shitauke-keiyaku.pdf"),
        ("施工体制台帳", "sekou-taisei.pdf"),
    ):
        control(clerk, "証憑の種類").select_option(label=kind)
        control(clerk, "ファイル（PDF・JPEG・PNG）").set_input_files(
            files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF}]
        )
        main.get_by_role("button", name="添付する").click()
        expect(main).to_contain_text("証憑を添付しました。")
    expect(main).to_contain_text("明細書・証憑・残高の確認を満たしています。")
    shot(clerk, "advance-04-withdrawal")
    main.get_by_role("button", name="金融機関に送信する").click()
    expect(main.locator("[data-status]")).to_have_text("金融機関の確認待ち")

    # 6. The bank user checks it against the plan, confirms and records the execution.
    withdrawal = Withdrawal.objects.get()
    bank.goto("/bank/")
    bank_main.get_by_role("link", name=withdrawal.reference).click()
    expect(bank_main.locator(".checks")).to_contain_text("必要な証憑が添付されています。")
    expect(bank_main).to_contain_text(SUBCONTRACTOR)
    shot(bank, "advance-05-bank-check")
    bank_main.get_by_role("button", name="確認する（払出を承認）").click()
    expect(bank_main.locator("[data-status]")).to_have_text("確認済（払出待ち）")
    expect(control(bank, "払出額（円）")).to_have_value("1,200,000")
    control(bank, "取引番号").fill("HARAI-0001")
    bank_main.get_by_role("button", name="払出を記録する").click()
    expect(bank_main.locator("[data-status]")).to_have_text("払出済")
    shot(bank, "advance-06-bank-executed")

    # 7. The clerk sees the new balance, by line.
    main.get_by_role("link", name=WORK_NAME).click()
    expect(main.locator("[data-balance]")).to_have_text("金3,700,000円")
    line = main.get_by_role("row").filter(has_text=SUBCONTRACTOR)
    expect(line).to_contain_text("金1,200,000円")  # paid
    expect(line).to_contain_text("金800,000円")  # remaining
    shot(clerk, "advance-07-balance")
