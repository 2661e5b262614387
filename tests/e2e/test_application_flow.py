"""The e-Net保証 acceptance flow in a browser (DESIGN.md §4 "Application"): a verified clerk
fills menu 1 for 津久見市 and sees the rules as they type, saves and submits; staff return it
with a reason; the clerk corrects and resubmits; staff approve. Screenshots: var/e2e/app-*."""

import datetime
import re

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from applications import fees, rules
from applications.management.commands.load_demo_fees import load_demo_fee_tables
from esure.choices import GuaranteeKind
from tests.conftest import PASSWORD, make_company, make_member, make_orderer, make_staff
from tests.e2e.conftest import expect, shot, totp_code

pytestmark = pytest.mark.e2e

CLERK_EMAIL = "keiyaku@tsukumi-kensetsu.example.jp"
STAFF_EMAIL = "shinsa@surety.example.jp"
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # make_staff()'s authenticator
WORK_NAME = "市道堅徳線道路改良工事"
REASON = "工事場所の番地を記入してください"
# 12,345,000円 (工事): 4割 = 4,938,000円, rounded down to 10万円 → 4,900,000円.
MAX_ADVANCE = 4_900_000
ADVANCE_OVER_MAX = rules.MSG_ADVANCE_OVER_MAX.format(ratio=40, max=rules.yen(MAX_ADVANCE))
ONLY_PAPER = rules.REFUSAL_BEFORE_START.format(date=rules.date_ja(datetime.date(2024, 10, 1)))


def control(page, label):
    """The form control whose label reads exactly `label`."""
    return page.get_by_label(label, exact=True)


def field_box(page, name):
    """A form field with its label, hints and the messages shown next to it."""
    return page.locator(f'[data-field="{name}"]')


def log_in(page, email):
    page.goto("/accounts/login/")
    control(page, "メールアドレス").fill(email)
    control(page, "パスワード").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="ログイン").click()


def password_again(page):
    """Showing a 認証キー asks for the password again (allauth's reauthentication); the
    page then resumes the request that asked. Returns the 確認する button's locator after
    the password is typed, to be clicked by the caller (or inside expect_download)."""
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("アクセス確認")
    control(page, "パスワード").fill(PASSWORD)
    return main.get_by_role("button", name="確認する")


def test_clerk_applies_staff_return_clerk_corrects_staff_approve(new_page):
    load_demo_fee_tables()
    tsukumi = make_orderer()
    make_member(make_company(name="津久見建設株式会社"), email=CLERK_EMAIL)
    make_staff(email=STAFF_EMAIL)
    advance_fee = fees.quote(GuaranteeKind.ADVANCE, MAX_ADVANCE).fee
    contract_fee = fees.quote(GuaranteeKind.CONTRACT, 1_234_500).fee

    # 1. The clerk logs in and opens menu 1 from HOME.
    clerk = new_page()
    log_in(clerk, CLERK_EMAIL)
    main = clerk.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("ホーム")
    shot(clerk, "app-01-home")
    main.get_by_role("link", name="1 前払金保証・契約保証 申込").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("前払金保証・契約保証 申込")

    # 2. The work (工事請負契約), the delivery and the contact person.
    control(clerk, "発注者").select_option(label=tsukumi.name)
    control(clerk, "発注機関・担当課").select_option(label=f"{tsukumi.name} 土木課 工事担当")
    control(clerk, "工事番号").fill("津土第R6-101号")
    control(clerk, "工事名").fill(WORK_NAME)
    control(clerk, "工事場所").fill("津久見市大字堅浦地内")
    clerk.get_by_role("group", name="工事の区分").get_by_label("工事", exact=True).check()
    control(clerk, "契約方法").select_option(label="一般競争入札")
    control(clerk, "請負代金額（円）").fill("12,345,000")
    control(clerk, "契約日").fill("2024-10-01")
    control(clerk, "工期（自）").fill("2024-10-02")
    # A 工期 that still runs whenever this runs: an ended work gets no 前払金保証.
    work_end = timezone.localdate() + datetime.timedelta(days=150)
    control(clerk, "工期（至）").fill(work_end.isoformat())
    electronic = clerk.get_by_role("radio", name="電子交付")
    paper = clerk.get_by_role("radio", name="書面交付")
    electronic.check()
    terms_name = re.escape(tsukumi.electronic_terms_name)
    terms = clerk.get_by_label(re.compile(f"契約書に「{terms_name}」を使用しています"))
    terms.check()
    control(clerk, "ご担当者名").fill("津久見 花子")
    control(clerk, "ご担当者電話番号").fill("0972-82-1234")

    # A contract concluded before 津久見市 went electronic: only 書面交付, and the page says why.
    control(clerk, "契約日").fill("2024-09-30")
    expect(main.get_by_text(ONLY_PAPER)).to_be_visible()
    expect(electronic).to_be_disabled()
    expect(paper).to_be_checked()
    shot(clerk, "app-02-only-paper-before-2024-10-01")
    control(clerk, "契約日").fill("2024-10-01")
    expect(main.get_by_text(ONLY_PAPER)).to_be_hidden()
    expect(electronic).to_be_enabled()
    electronic.check()
    expect(terms).to_be_visible()
    expect(terms).to_be_checked()

    # 3. The guarantees: the advance over the limit is told next to the field as they type.
    control(clerk, "契約保証を申し込む").check()
    control(clerk, "契約保証の保証金額（円）").fill("1,234,500")
    control(clerk, "前払金保証を申し込む").check()
    advance = control(clerk, "前払金保証の保証金額（円）")
    advance.press_sequentially("5,000,000")
    expect(field_box(clerk, "advance_amount")).to_contain_text(ADVANCE_OVER_MAX)
    expect(field_box(clerk, "advance_amount")).to_contain_text("4,900,000円")
    expect(main.get_by_text("前払金の上限：4,900,000円", exact=True)).to_be_visible()
    expect(main.get_by_text("契約保証の最低額：1,234,500円", exact=True)).to_be_visible()
    expect(
        main.get_by_text(f"保証料の目安：{contract_fee:,}円（デモ用の料率による）", exact=True)
    ).to_be_visible()
    expect(field_box(clerk, "contract_amount").get_by_role("listitem")).to_have_count(0)
    expect(clerk).to_have_url(re.compile(r"/applications/new/1/$"))  # nothing was submitted
    shot(clerk, "app-03-advance-over-limit")

    advance.fill("4,900,000")
    expect(field_box(clerk, "advance_amount")).not_to_contain_text(ADVANCE_OVER_MAX)
    expect(
        main.get_by_text(f"保証料の目安：{advance_fee:,}円（デモ用の料率による）", exact=True)
    ).to_be_visible()
    expect(main.get_by_role("listitem").filter(has_text="入力してください")).to_have_count(0)
    shot(clerk, "app-04-form-complete")

    # 4. Save a draft (保存中), then submit (手続き中).
    main.get_by_role("button", name="保存する（保存中）").click()
    expect(clerk.get_by_role("status")).to_contain_text("保存しました（保存中）")
    expect(main.get_by_role("heading", level=1)).to_contain_text("保存中")
    expect(advance).to_have_value("4,900,000")
    expect(control(clerk, "請負代金額（円）")).to_have_value("12,345,000")
    shot(clerk, "app-05-saved-draft")
    main.get_by_role("button", name="申込む").click()
    expect(clerk.get_by_role("status")).to_contain_text("お申込みを受け付けました（手続き中）")
    expect(main).to_contain_text("状態: 手続き中")
    pk = int(re.search(r"/applications/(\d+)/$", clerk.url).group(1))
    shot(clerk, "app-06-submitted")

    clerk.get_by_role("link", name="esure 電子保証").click()
    main.get_by_role("link", name="4 保存中・手続き中一覧").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("保存中・手続き中一覧")
    row = main.get_by_role("row").filter(has_text=WORK_NAME)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("手続き中")
    expect(row).to_contain_text(tsukumi.name)
    expect(row).to_contain_text("4,900,000円")
    shot(clerk, "app-07-menu4-list")

    # 5. Staff log in with TOTP and return the application with a reason.
    staff = new_page()
    log_in(staff, STAFF_EMAIL)
    control(staff, "コード").fill(totp_code(STAFF_TOTP_SECRET))
    staff.get_by_role("main").get_by_role("button", name="ログイン").click()
    expect(staff.get_by_role("main")).to_contain_text("管理画面")
    change_url = f"/{settings.ESURE_ADMIN_PATH}applications/application/{pk}/change/"
    staff.goto(change_url)
    expect(staff.get_by_text("すべての規則を満たしています。")).to_be_visible()
    staff.get_by_label(re.compile("^理由・メモ")).fill(REASON)
    shot(staff, "app-08-admin-review")
    staff.get_by_role("button", name="差戻し", exact=True).click()
    expect(staff.get_by_text(f"申込番号 {pk} を差し戻しました。")).to_be_visible()
    expect(staff.get_by_role("button", name="差戻し", exact=True)).to_have_count(0)

    # 6. The clerk reads the reason, corrects the 工事場所 and submits again.
    row.get_by_role("link", name=str(pk)).click()
    expect(main).to_contain_text("状態: 差戻し")
    expect(main.get_by_role("heading", name="差戻しの理由")).to_be_visible()
    expect(main).to_contain_text(REASON)
    shot(clerk, "app-09-returned")
    main.get_by_role("link", name="修正して再申込").click()
    expect(clerk.get_by_role("alert")).to_contain_text(REASON)
    control(clerk, "工事場所").fill("津久見市大字堅浦1234番地")
    shot(clerk, "app-10-correcting")
    main.get_by_role("button", name="申込む").click()
    expect(clerk.get_by_role("status")).to_contain_text("お申込みを受け付けました（手続き中）")
    expect(main).to_contain_text("状態: 手続き中")
    expect(main).to_contain_text("津久見市大字堅浦1234番地")

    # 7. Staff approve; the clerk sees 承認済（保証料入金待ち） and has the mail.
    staff.goto(change_url)
    expect(staff.get_by_text("津久見市大字堅浦1234番地")).to_be_visible()
    staff.get_by_role("button", name="承認", exact=True).click()
    expect(staff.get_by_text(f"申込番号 {pk} を承認しました（保証料の入金待ち）。")).to_be_visible()
    shot(staff, "app-11-admin-approved")
    clerk.reload()
    expect(main).to_contain_text("状態: 承認済（保証料入金待ち）")
    expect(main.get_by_role("row").filter(has_text="手続き中 → 差戻し")).to_contain_text(REASON)
    shot(clerk, "app-12-approved")

    subjects = [m.subject for m in mail.outbox if m.to == [CLERK_EMAIL]]
    assert subjects == [
        f"[esure] お申込みが差し戻されました（{WORK_NAME}）",
        f"[esure] お申込みを承認しました（保証料のお支払いのお願い）（{WORK_NAME}）",
    ]
    approved = mail.outbox[-1]
    assert f"申込番号 {pk}" in approved.body
    assert f"/applications/{pk}/" in approved.body
