"""Onboarding as people do it in a browser (DESIGN.md §4): a contractor's clerk signs up,
confirms the mail, registers the company; surety staff log in with TOTP and verify it in
the admin; the clerk then sees the company verified. A screenshot is kept at each step."""

import re

import pytest
from django.conf import settings
from django.core import mail

from accounts.validators import corporate_number_check_digit
from tests.conftest import PASSWORD, make_staff
from tests.e2e.conftest import expect, shot, totp_code

pytestmark = pytest.mark.e2e

CLERK_EMAIL = "keiyaku@tsukumi-kensetsu.example.jp"
COMPANY_NAME = "津久見建設株式会社"
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # make_staff()'s authenticator
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def corporate_number(base12, *, valid=True):
    """A 法人番号 as a clerk may type it: full-width digits; with a wrong check digit if asked."""
    check = corporate_number_check_digit(base12)
    if not valid:
        check = check % 9 + 1  # check digits run 1–9: this is always another one
    return f"{check}{base12}".translate(FULL_WIDTH)


def field(page, label):
    """The form control whose label reads `label` (Django may add a ：/: suffix)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\s*[:：]?$"))


def test_clerk_signs_up_registers_company_and_staff_verify_it(new_page):
    clerk = new_page()

    # 1. A visitor opens the site and signs up with an e-mail address and a password.
    clerk.goto("/")
    expect(clerk.get_by_role("heading", level=1)).to_have_text("公共工事の保証を、電子で。")
    shot(clerk, "signup-01-home-visitor")
    clerk.get_by_role("main").get_by_role("link", name="新規登録").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("ユーザー登録")
    field(clerk, "メールアドレス").fill(CLERK_EMAIL)
    field(clerk, "パスワード").fill(PASSWORD)
    field(clerk, "パスワード (再入力)").fill(PASSWORD)
    shot(clerk, "signup-02-signup-form")
    clerk.get_by_role("button", name="ユーザー登録").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("メールアドレスを確認してください")
    expect(clerk.get_by_role("status")).to_contain_text(
        f"確認メールを {CLERK_EMAIL} へ送信しました"
    )
    shot(clerk, "signup-03-verification-sent")

    # 2. The verification mail carries a link; opening it asks to confirm, which logs in.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [CLERK_EMAIL]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    clerk.goto(link.group(0))
    expect(clerk.get_by_role("main")).to_contain_text(CLERK_EMAIL)
    shot(clerk, "signup-04-confirm-email")
    clerk.get_by_role("button", name="確認する").click()

    # 3. Confirmed and logged in (ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION); home asks them to
    # register the company.
    expect(clerk.get_by_role("status")).to_contain_text("としてログインしました")
    expect(clerk.get_by_role("heading", name="会社情報の登録")).to_be_visible()
    expect(clerk.get_by_role("navigation", name="利用者メニュー")).to_contain_text(CLERK_EMAIL)
    shot(clerk, "signup-05-home-register-first")
    clerk.get_by_role("link", name="会社情報を登録する").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("会社情報の登録")

    typed = {
        "商号": COMPANY_NAME,
        "商号フリガナ": "ツクミケンセツカブシキガイシャ",
        "代表者役職": "代表取締役",
        "代表者氏名": "津久見 太郎",
        "郵便番号": "879-2435",
        "所在地": "大分県津久見市宮本町20番15号",
        "電話番号": "0972-82-1234",
        "建設業許可番号": "大分県知事許可(般-6)第12345号",
    }
    wrong_number = corporate_number("201234567890", valid=False)
    field(clerk, "法人番号").fill(wrong_number)
    for label, value in typed.items():
        field(clerk, label).fill(value)
    shot(clerk, "signup-06-company-form")
    clerk.get_by_role("button", name="登録する").click()

    # A wrong check digit: the error is told next to the field, and nothing typed is lost.
    expect(clerk.get_by_role("alert")).to_contain_text("入力内容に誤りがあります")
    number = field(clerk, "法人番号")
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_have_accessible_description(re.compile("検査用数字が一致しません"))
    expect(number).to_have_value(wrong_number)
    for label, value in typed.items():
        expect(field(clerk, label)).to_have_value(value)
    shot(clerk, "signup-07-company-form-error")

    number.fill(corporate_number("201234567890"))
    clerk.get_by_role("button", name="登録する").click()

    # 4. Registered: the company awaits the surety's verification.
    expect(clerk.get_by_role("status")).to_contain_text("会社情報を登録しました")
    expect(clerk.get_by_role("main")).to_contain_text("確認待ち")
    expect(clerk.get_by_role("main")).to_contain_text(COMPANY_NAME)
    shot(clerk, "signup-08-company-registered")
    clerk.get_by_role("link", name="esure 電子保証").click()
    expect(clerk.get_by_role("heading", name="会社情報の確認待ちです")).to_be_visible()
    shot(clerk, "signup-09-home-awaiting-verification")

    # 5. Surety staff log in with password and TOTP, and verify the company in the admin.
    make_staff(email="shinsa@surety.example.jp")
    staff = new_page()
    staff.goto("/accounts/login/")
    field(staff, "メールアドレス").fill("shinsa@surety.example.jp")
    field(staff, "パスワード").fill(PASSWORD)
    shot(staff, "signup-10-staff-login")
    staff.get_by_role("main").get_by_role("button", name="ログイン").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("多要素認証")
    field(staff, "コード").fill(totp_code(STAFF_TOTP_SECRET))
    shot(staff, "signup-11-staff-totp")
    staff.get_by_role("main").get_by_role("button", name="ログイン").click()
    expect(staff.get_by_role("main")).to_contain_text("管理画面")

    staff.goto(f"/{settings.ESURE_ADMIN_PATH}")
    staff.get_by_role("link", name="受注者（会社）", exact=True).click()
    row = staff.get_by_role("row").filter(has_text=COMPANY_NAME)
    expect(row).to_contain_text("確認待ち")
    row.get_by_role("checkbox").check()
    staff.locator("select[name=action]").select_option(
        label="選択した会社を確認済にする（申込可能）"
    )
    shot(staff, "signup-12-admin-verify-action")
    staff.get_by_role("button", name="実行").click()
    expect(staff.get_by_text("1社を確認済にしました。")).to_be_visible()
    expect(staff.get_by_role("row").filter(has_text=COMPANY_NAME)).to_contain_text("確認済")
    shot(staff, "signup-13-admin-verified")

    # 6. The clerk reloads home: no longer awaiting; the company page says 確認済.
    clerk.reload()
    main = clerk.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("ホーム")
    expect(main).not_to_contain_text("確認待ち")
    shot(clerk, "signup-14-home-verified")
    main.get_by_role("link", name="会社情報・担当者の招待").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("会社情報")
    expect(main).to_contain_text("状態: 確認済")
    expect(main).to_contain_text(COMPANY_NAME)
    shot(clerk, "signup-15-company-verified")

    verified_mails = [m for m in mail.outbox if "会社情報の確認が完了しました" in m.subject]
    assert len(verified_mails) == 1
    assert verified_mails[0].to == [CLERK_EMAIL]
    assert COMPANY_NAME in verified_mails[0].body
