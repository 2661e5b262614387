"""Issuance in a browser (DESIGN.md §4 "Conclusion" and "Contractor's certificates"): staff
record the fee of an approved 津久見市 application (前払金 + 契約保証, 電子交付), which concludes
both guarantees; the clerk gets 「電子証書・認証キー登録のお知らせ」 (no key in it), opens
電子証書の確認, prints the certificate on one A4 page, shows the 認証キー and downloads the
「認証キー等のお知らせ」 PDF that carries the same key. Screenshots: var/e2e/issue-*.

The helpers below (staff login, print to PDF, download, PDF text) are shared with
test_whole_chain.py.
"""

import datetime
import io
import re
import unicodedata
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import OrdererSubmissionChannel
from applications import fees
from certificates.models import Guarantee
from esure.choices import GuaranteeKind, SubmissionChannel
from tests.conftest import (
    make_application,
    make_company,
    make_fee_tables,
    make_member,
    make_orderer,
    make_staff,
    make_work,
)
from tests.e2e.conftest import expect, shot, totp_code
from tests.e2e.test_application_flow import control, log_in, password_again

pytestmark = pytest.mark.e2e

CLERK_EMAIL = "keiyaku@tsukumi-kensetsu.example.jp"
STAFF_EMAIL = "shinsa@surety.example.jp"
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # make_staff()'s authenticator
WORK_NAME = "市道堅徳線道路改良工事"
ADVANCE, CONTRACT = 4_900_000, 1_234_500  # the maximum 前払金 and the minimum 契約保証
NUMBER_RE = r"\d{2}-\d-\d{7}-\d"
KEY_RE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")
SUBMISSION_NOTE = "持参（FAXも可）。詳細は津久見市の各発注機関にご確認ください。"
CONCLUDED_RE = re.compile(rf"保証契約を締結しました: ({NUMBER_RE})、({NUMBER_RE})")


def work_dates(today=None):
    """契約日・工期 around today (Tokyo), so that the guarantee is 有効 whenever this runs."""
    today = today or timezone.localdate()
    return {
        "contract_date": today,
        "start_date": today + datetime.timedelta(days=1),
        "end_date": today + datetime.timedelta(days=150),
    }


def make_tsukumi():
    """津久見市 as the flyer has it: the key notice is brought in person, FAX also accepted,
    together with the printed 保証証書."""
    tsukumi = make_orderer(printout_required=True, submission_note=SUBMISSION_NOTE)
    OrdererSubmissionChannel.objects.bulk_create(
        OrdererSubmissionChannel(orderer=tsukumi, kind=kind, channel=channel)
        for kind in GuaranteeKind
        for channel in (SubmissionChannel.CARRY, SubmissionChannel.FAX)
    )
    return tsukumi


def assert_key_notice(text, *, number, key, work_name):
    """The 「認証キー等のお知らせ」: the number, the one key, the work and 津久見市's policy."""
    assert KEY_RE.findall(text) == [key], text
    flat = squeeze(text)
    for line in (f"保証契約番号 {number}", f"工事名 {work_name}", "提出方法：持参、FAX"):
        assert squeeze(line) in flat, (line, text)
    assert "印刷した保証証書" in flat, text  # 津久見市 wants the printout with it


def staff_log_in(page, email=STAFF_EMAIL):
    """Password, then the authenticator code; lands on the admin index."""
    log_in(page, email)
    control(page, "コード").fill(totp_code(STAFF_TOTP_SECRET))
    page.get_by_role("main").get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("main")).to_contain_text("管理画面")


def admin_change_url(application_pk):
    return f"/{settings.ESURE_ADMIN_PATH}applications/application/{application_pk}/change/"


def record_fee(staff, expected_fee):
    """保証料入金 on the approved application's change page: the prefilled amount, as is.
    Returns the two 保証契約番号 of the success message."""
    box = staff.locator(".fee-box")
    expect(box.get_by_role("heading")).to_have_text("保証料入金（記録すると保証契約を締結します）")
    expect(box).to_contain_text(f"計算上の保証料: 金{expected_fee:,}円（非課税）")
    expect(control(box, "入金額（円）")).to_have_value(str(expected_fee))
    expect(control(box, "入金日")).to_have_value(timezone.localdate().isoformat())
    box.get_by_role("button", name="入金を記録して締結する").click()
    success = staff.locator(".messagelist .success")
    expect(success).to_have_text(CONCLUDED_RE)
    return CONCLUDED_RE.search(success.inner_text()).groups()


def print_to_pdf(page) -> bytes:
    """What 印刷する gives: Chromium's print of the page on A4, with the print stylesheet."""
    page.emulate_media(media="print")
    try:
        return page.pdf(format="A4")
    finally:
        page.emulate_media(media="screen")


def download(page, trigger) -> tuple[str, bytes]:
    """Click `trigger` (a locator) and return the file's suggested name and bytes."""
    with page.expect_download() as info:
        trigger.click()
    file = info.value
    return file.suggested_filename, Path(file.path()).read_bytes()


def open_pdf(page, trigger) -> bytes:
    """Click a link to a PDF served inline and return the bytes the server sent.

    Chromium shows such a PDF in its viewer (the user saves it from there), and the page's
    response body is then the viewer's wrapper, not the file: the bytes are taken on the
    way, as the browser fetches them (its cookies, its request), then passed on unchanged.
    """
    href = trigger.get_attribute("href")
    received = []

    def pass_through(route):
        response = route.fetch()
        received.append((response.status, response.headers, response.body()))
        route.fulfill(response=response)

    page.route(f"**{href}", pass_through)
    try:
        with page.expect_response(lambda r: r.url.endswith(href)):
            trigger.click()
    finally:
        page.unroute(f"**{href}")
    [(status, headers, data)] = received
    assert status == 200 and headers["content-type"] == "application/pdf", (status, headers)
    page.go_back()
    return data


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page of a PDF (pypdf)."""
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def squeeze(text: str) -> str:
    """Text as compared: NFKC (the font's ToUnicode map may give a Kangxi radical such as
    ⼯ U+2F2F for 工), without whitespace (extraction may split a line anywhere)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def assert_one_page_certificate(data, number, work_name):
    pages = pdf_pages(data)
    assert len(pages) == 1, f"the printout takes {len(pages)} pages"
    text = squeeze(pages[0])
    assert number in text, text
    assert squeeze(work_name) in text, text
    return text


def test_staff_record_fee_clerk_prints_and_gets_the_key(new_page):
    make_fee_tables()
    make_tsukumi()
    company = make_company(name="津久見建設株式会社")
    make_member(company, email=CLERK_EMAIL)
    make_staff(email=STAFF_EMAIL)
    work = make_work(company, name=WORK_NAME, **work_dates())
    items = {GuaranteeKind.ADVANCE: ADVANCE, GuaranteeKind.CONTRACT: CONTRACT}
    application = make_application(work=work, status="approved", items=items)
    expected_fee = fees.expected_fee(application, timezone.localdate()).due

    # 1. Staff log in with TOTP and record the fee: both guarantees are concluded.
    staff = new_page()
    staff_log_in(staff)
    staff.goto(admin_change_url(application.pk))
    shot(staff, "issue-01-admin-approved-fee-box")
    numbers = record_fee(staff, expected_fee)
    advance = Guarantee.objects.get(kind=GuaranteeKind.ADVANCE)
    contract = Guarantee.objects.get(kind=GuaranteeKind.CONTRACT)
    assert numbers == (advance.number_display, contract.number_display)
    expect(staff.locator(".fee-box")).to_have_count(0)  # concluded: nothing more to record
    shot(staff, "issue-02-admin-concluded")

    # 2. The clerk's mail names both numbers and never a key.
    sent = [m for m in mail.outbox if m.to == [CLERK_EMAIL]]
    assert [m.subject for m in sent] == [f"[esure] 電子証書・認証キー登録のお知らせ（{WORK_NAME}）"]
    body = sent[0].body
    assert f"保証契約番号: {advance.number_display}（前払金保証）" in body
    assert f"保証契約番号: {contract.number_display}（契約保証）" in body
    assert reverse("certs:index") in body
    assert not KEY_RE.search(body.upper()), body

    # 3. The clerk opens HOME → 電子証書の確認 and the 前払金保証.
    clerk = new_page()
    log_in(clerk, CLERK_EMAIL)
    main = clerk.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("ホーム")
    main.get_by_role("link", name="電子証書の確認はこちら").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("電子証書の確認")
    rows = main.get_by_role("row").filter(has_text=WORK_NAME)
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="前払金保証")).to_contain_text("金4,900,000円")
    expect(rows.filter(has_text="契約保証").filter(has_not_text="前払金")).to_contain_text(
        "金1,234,500円"
    )
    shot(clerk, "issue-03-certs-list")
    main.get_by_role("link", name=advance.number_display).click()
    expect(main.get_by_text("この画面は、印刷・保存が可能です")).to_be_visible()
    title = f"前払金保証証書 {advance.number_display}"
    expect(main.get_by_role("heading", level=1, name=title)).to_be_visible()
    sheet = main.locator("article.certificate-sheet")
    expect(sheet).to_contain_text(WORK_NAME)
    expect(sheet).to_contain_text("金4,900,000円")
    expect(main.get_by_role("button", name="印刷する")).to_be_visible()
    shot(clerk, "issue-04-certificate-page")

    # 4. 印刷する: the print stylesheet puts the certificate alone on one A4 page.
    printed = print_to_pdf(clerk)
    printed_text = assert_one_page_certificate(printed, advance.number_display, WORK_NAME)
    Path(shot(clerk, "issue-05-after-print")).with_suffix(".pdf").write_bytes(printed)

    # 5. 認証キーの表示 shows the key; the notice PDF carries the same one.
    main.get_by_role("button", name="認証キーの表示").click()
    password_again(clerk).click()
    expect(main.get_by_role("heading", level=1)).to_have_text("認証キー")
    key_box = main.locator("[data-key]")
    expect(key_box).to_have_text(KEY_RE)
    key = key_box.inner_text().strip()
    shot(clerk, "issue-06-key-shown")
    assert squeeze(key) not in printed_text  # the printed 保証証書 never carries the key
    name, notice = download(
        clerk, main.get_by_role("button", name="「認証キー等のお知らせ」(PDF) をダウンロード")
    )
    assert name == f"key-notice-{advance.number_display}.pdf"
    (Path(settings.BASE_DIR) / "var" / "e2e" / "issue-07-key-notice.pdf").write_bytes(notice)
    notice_pages = pdf_pages(notice)
    assert len(notice_pages) == 1
    assert_key_notice(notice_pages[0], number=advance.number_display, key=key, work_name=WORK_NAME)

    # Back on the certificate page, the last display of the key is recorded.
    main.get_by_role("link", name="電子証書に戻る").click()
    expect(main).to_contain_text("認証キーの最終表示：")
    shot(clerk, "issue-08-certificate-after-key")
