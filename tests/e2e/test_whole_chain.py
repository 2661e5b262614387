"""The flyer's chain, STEP 1–6, in one browser test (DESIGN.md §4, seed flyer):

1 保証申込 — the clerk applies in menu 1 for 津久見市 with 電子交付;
  staff approve and record the fee (締結);
2 電子証書・認証キー登録 — the certificate and the key exist;
3 電子証書・認証キー登録のお知らせ — the clerk's mail (no key);
4 電子証書の確認・認証キーの取得 — the clerk prints the certificate (one A4 page) and
  downloads the 「認証キー等のお知らせ」, which carries the number and the key;
5 提出 — the paper goes to the city (here: what the PDF says is what the city types);
6 電子証書の閲覧 — a city clerk, not logged in, types the number in full-width digits and
  the key in lower case with spaces into D-Sure (a wrong key first: the one uniform
  answer), sees the certificate 有効, downloads the original PDF (its SHA-256 is the stored
  one); the contractor's page then says 閲覧済.

Screenshots: var/e2e/chain-*.
"""

import hashlib
import re

import pytest
from django.core import mail
from django.utils import timezone

from applications import fees
from applications.models import Application
from certificates.keys import CROCKFORD_ALPHABET
from certificates.models import Document
from dsure import services as dsure_services
from esure.choices import GuaranteeKind
from tests.conftest import make_company, make_fee_tables, make_member, make_staff
from tests.e2e.conftest import expect, shot
from tests.e2e.test_application_flow import control, log_in, password_again
from tests.e2e.test_issuance_flow import (
    CLERK_EMAIL,
    KEY_RE,
    NUMBER_RE,
    STAFF_EMAIL,
    WORK_NAME,
    admin_change_url,
    assert_key_notice,
    assert_one_page_certificate,
    download,
    make_tsukumi,
    open_pdf,
    pdf_pages,
    print_to_pdf,
    record_fee,
    squeeze,
    staff_log_in,
    work_dates,
)

pytestmark = pytest.mark.e2e

FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
FINGERPRINT_RE = re.compile(r"[0-9a-f]{64}")


def apply_in_menu1(clerk, tsukumi, dates):
    """Menu 1 as a clerk fills it: the work, 電子交付 with 津久見市's 約款, 契約保証 1,234,500
    and 前払金保証 4,900,000 (the limits for 12,345,000円); then 申込む. Returns its pk."""
    main = clerk.get_by_role("main")
    main.get_by_role("link", name="1 前払金保証・契約保証 申込").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("前払金保証・契約保証 申込")
    control(clerk, "発注者").select_option(label=tsukumi.name)
    control(clerk, "発注機関・担当課").select_option(label=f"{tsukumi.name} 土木課 工事担当")
    control(clerk, "工事番号").fill("津土第R8-101号")
    control(clerk, "工事名").fill(WORK_NAME)
    control(clerk, "工事場所").fill("津久見市大字堅浦地内")
    clerk.get_by_role("group", name="工事の区分").get_by_label("工事", exact=True).check()
    control(clerk, "契約方法").select_option(label="一般競争入札")
    control(clerk, "請負代金額（円）").fill("12,345,000")
    control(clerk, "契約日").fill(dates["contract_date"].isoformat())
    control(clerk, "工期（自）").fill(dates["start_date"].isoformat())
    control(clerk, "工期（至）").fill(dates["end_date"].isoformat())
    clerk.get_by_role("radio", name="電子交付").check()
    terms_name = re.escape(tsukumi.electronic_terms_name)
    clerk.get_by_label(re.compile(f"契約書に「{terms_name}」を使用しています")).check()
    control(clerk, "ご担当者名").fill("津久見 花子")
    control(clerk, "ご担当者電話番号").fill("0972-82-1234")
    control(clerk, "契約保証を申し込む").check()
    control(clerk, "契約保証の保証金額（円）").fill("1,234,500")
    control(clerk, "前払金保証を申し込む").check()
    control(clerk, "前払金保証の保証金額（円）").fill("4,900,000")
    advance_fee = fees.quote(GuaranteeKind.ADVANCE, 4_900_000).fee
    expect(
        main.get_by_text(f"保証料の目安：{advance_fee:,}円（デモ用の料率による）", exact=True)
    ).to_be_visible()
    expect(main.get_by_role("listitem").filter(has_text="入力してください")).to_have_count(0)
    shot(clerk, "chain-01-menu1-filled")
    main.get_by_role("button", name="申込む").click()
    expect(clerk.get_by_role("status")).to_contain_text("お申込みを受け付けました（手続き中）")
    shot(clerk, "chain-02-submitted")
    return int(re.search(r"/applications/(\d+)/$", clerk.url).group(1))


def as_city_types_it(number, key):
    """The number in full-width digits and dashes; the key in lower case, groups spaced."""
    return number.translate(FULL_WIDTH), " ".join(key.lower().split("-"))


def another_key(key):
    """A well-formed key that is not `key`: its first symbol changed."""
    first = CROCKFORD_ALPHABET[(CROCKFORD_ALPHABET.index(key[0]) + 1) % len(CROCKFORD_ALPHABET)]
    return first + key[1:]


def test_flyer_chain_apply_conclude_print_submit_and_city_views_in_dsure(new_page):
    make_fee_tables()
    tsukumi = make_tsukumi()
    make_member(make_company(name="津久見建設株式会社"), email=CLERK_EMAIL)
    make_staff(email=STAFF_EMAIL)
    dates = work_dates()

    # STEP 1: the clerk applies (menu 1, 電子交付); staff approve and record the fee.
    clerk = new_page()
    log_in(clerk, CLERK_EMAIL)
    clerk_main = clerk.get_by_role("main")
    expect(clerk_main.get_by_role("heading", level=1)).to_have_text("ホーム")
    pk = apply_in_menu1(clerk, tsukumi, dates)

    staff = new_page()
    staff_log_in(staff)
    staff.goto(admin_change_url(pk))
    expect(staff.get_by_text("すべての規則を満たしています。")).to_be_visible()
    staff.get_by_role("button", name="承認", exact=True).click()
    expect(staff.get_by_text(f"申込番号 {pk} を承認しました（保証料の入金待ち）。")).to_be_visible()
    shot(staff, "chain-03-admin-approved")
    application = Application.objects.get(pk=pk)
    expected_fee = fees.expected_fee(application, timezone.localdate()).due
    advance_number, contract_number = record_fee(staff, expected_fee)
    shot(staff, "chain-04-admin-concluded")

    # STEP 2–3: the registration mail names both numbers, and no key.
    concluded = [m for m in mail.outbox if "電子証書・認証キー登録のお知らせ" in m.subject]
    assert [m.to for m in concluded] == [[CLERK_EMAIL]]
    assert advance_number in concluded[0].body and contract_number in concluded[0].body
    assert not KEY_RE.search(concluded[0].body.upper())

    # STEP 4: the clerk opens 電子証書の確認, prints the 前払金保証 and gets the key notice.
    clerk.get_by_role("link", name="esure 電子保証").click()
    clerk_main.get_by_role("link", name="電子証書の確認はこちら").click()
    row = clerk_main.get_by_role("row").filter(has_text="前払金保証")
    expect(row).to_contain_text(WORK_NAME)
    expect(row).to_contain_text("有効")
    row.get_by_role("link", name=advance_number).click()
    expect(clerk_main.get_by_text("この画面は、印刷・保存が可能です")).to_be_visible()
    expect(clerk_main.get_by_role("listitem").filter(has_text="未閲覧")).to_be_visible()
    shot(clerk, "chain-05-certificate-page")
    printed = assert_one_page_certificate(print_to_pdf(clerk), advance_number, WORK_NAME)
    printed_fingerprint = FINGERPRINT_RE.search(printed).group()

    clerk_main.get_by_role("button", name="「認証キー等のお知らせ」PDF").click()
    name, notice = download(clerk, password_again(clerk))
    assert name.endswith(".pdf")
    notice_text = pdf_pages(notice)[0]
    number = re.search(rf"保証契約番号\s*({NUMBER_RE})", notice_text).group(1)
    key = KEY_RE.search(notice_text).group()
    assert number == advance_number
    assert_key_notice(notice_text, number=number, key=key, work_name=WORK_NAME)

    # STEP 5–6: a city clerk (no account, a browser of their own) opens D-Sure.
    city = new_page()
    city.goto("/dsure/")
    city_main = city.get_by_role("main")
    expect(city_main.get_by_role("heading", level=1)).to_have_text("電子証書の閲覧（原本確認）")
    typed_number, typed_key = as_city_types_it(number, key)
    assert typed_number != number and typed_key != key
    # A wrong key first: the one answer that tells nothing.
    control(city, "保証契約番号").fill(typed_number)
    control(city, "認証キー").fill(as_city_types_it(number, another_key(key))[1])
    city_main.get_by_role("button", name="電子証書を表示する").click()
    expect(city.get_by_role("alert")).to_have_text(dsure_services.MSG_NO_MATCH)
    shot(city, "chain-06-dsure-wrong-key")
    control(city, "保証契約番号").fill(typed_number)
    control(city, "認証キー").fill(typed_key)
    shot(city, "chain-07-dsure-typed")
    city_main.get_by_role("button", name="電子証書を表示する").click()

    title = f"前払金保証証書 {number}"
    expect(city_main.get_by_role("heading", level=1, name=title)).to_be_visible()
    expect(city_main.locator(".facts .badge")).to_have_text("有効")
    sheet = city_main.locator("article.certificate-sheet")
    expect(sheet).to_contain_text(WORK_NAME)
    expect(sheet).to_contain_text("金4,900,000円")
    # The fingerprint on screen is the one on the clerk's printout.
    # (shown in groups of eight, as on the printout)
    compact = printed_fingerprint.replace(" ", "")
    grouped = " ".join(compact[i : i + 8] for i in range(0, len(compact), 8))
    expect(city_main.locator(".facts")).to_contain_text(grouped)
    shot(city, "chain-08-dsure-viewer")
    # The link says ダウンロード, but the file is served inline: Chromium opens it in its
    # PDF viewer (from where it is saved). Either way these are the bytes the city gets.
    original = open_pdf(city, city_main.get_by_role("link", name="PDF（原本データ）をダウンロード"))
    stored = Document.objects.get(
        certificate__guarantee__number=number.replace("-", ""),
        certificate__version=1,
        kind=Document.Kind.CERTIFICATE,
    )
    assert hashlib.sha256(original).hexdigest() == stored.sha256
    assert squeeze(WORK_NAME) in squeeze(pdf_pages(original)[0])
    # 閲覧を終了する (a POST from the viewer, as the lookup was): back to the empty form.
    city_main.get_by_role("button", name="閲覧を終了する").click()
    expect(city.get_by_role("status")).to_contain_text("閲覧を終了しました。")
    expect(control(city, "認証キー")).to_have_value("")

    # Back at the contractor: the orderer has seen it (閲覧済 with the time).
    clerk.go_back()  # from the password page the notice was downloaded on
    clerk.reload()
    seen = clerk_main.get_by_role("listitem").filter(has_text="閲覧済")
    expect(seen).to_have_text(re.compile(r"閲覧済：\d{4}/\d{2}/\d{2} \d{2}:\d{2}（発注者が"))
    viewed_on = timezone.localdate().strftime("%Y/%m/%d")
    expect(seen).to_contain_text(viewed_on)
    shot(clerk, "chain-09-certificate-viewed")
