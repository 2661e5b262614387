"""契約保証予約 in a browser (issue #19): the clerk applies before the bid, staff approve it in
admin with the 予約手数料, the clerk downloads the 手数料通知書 and, after the award, turns the
reservation into a menu-1 application with its data filled in. Screenshots: var/e2e/rsv-*."""

import datetime
import io

import pytest
from django.conf import settings
from django.utils import timezone
from pypdf import PdfReader

from reservations.models import Reservation
from tests.conftest import make_company, make_member, make_staff
from tests.e2e.conftest import expect, shot
from tests.e2e.test_application_flow import control, log_in
from tests.e2e.test_issuance_flow import STAFF_EMAIL, make_tsukumi, staff_log_in

pytestmark = pytest.mark.e2e

CLERK_EMAIL = "nyusatsu@demo-kensetsu.example.jp"
WORK_NAME = "津久見港線道路改良工事"


def test_clerk_reserves_staff_approve_clerk_downloads_the_notice_and_applies(new_page):
    tsukumi = make_tsukumi()
    make_member(make_company(name="株式会社デモ建設"), email=CLERK_EMAIL)
    make_staff(email=STAFF_EMAIL)
    bid_date = timezone.localdate() + datetime.timedelta(days=14)

    # 1. The clerk applies for the reservation before the bid.
    clerk = new_page()
    log_in(clerk, CLERK_EMAIL)
    main = clerk.get_by_role("main")
    main.get_by_role("link", name="契約保証予約（入札前の申込・予約の一覧）").click()
    main.get_by_role("link", name="契約保証予約を申し込む").click()
    control(clerk, "発注者").select_option(label=tsukumi.name)
    control(clerk, "工事名").fill(WORK_NAME)
    control(clerk, "入札日").fill(bid_date.isoformat())
    control(clerk, "請負代金額の見込み（円）").fill("12,345,000")
    control(clerk, "予約する保証金額（円）").fill("1,234,500")
    control(clerk, "ご担当者名").fill("デモ 花子")
    shot(clerk, "rsv-01-form")
    main.get_by_role("button", name="申込む").click()
    expect(clerk.get_by_role("status")).to_contain_text("契約保証予約のお申込みを受け付けました")
    reservation = Reservation.objects.get()

    # 2. Staff approve it in admin with the fee; the default 有効期限 is offered.
    staff = new_page()
    staff_log_in(staff)
    staff.goto(f"/{settings.ESURE_ADMIN_PATH}reservations/reservation/{reservation.pk}/change/")
    last_day = bid_date + datetime.timedelta(days=settings.ESURE_RESERVATION_VALID_DAYS)
    expect(control(staff, "有効期限")).to_have_value(last_day.isoformat())
    control(staff, "予約手数料（円）").fill("30000")
    shot(staff, "rsv-02-admin")
    staff.get_by_role("button", name="承認する（手数料通知書を電子交付、予約証書は書面）").click()
    expect(staff.locator(".messagelist .success")).to_contain_text("を承認しました")
    expect(staff.get_by_role("link", name="予約証書（印刷用PDF）")).to_be_visible()

    # 3. The clerk downloads the 手数料通知書.
    clerk.goto(f"/reservations/{reservation.pk}/")
    expect(main).to_contain_text("予約をお引き受けしました")
    with clerk.expect_download() as download:
        main.get_by_role("link", name="手数料通知書（PDF）").click()
    with open(download.value.path(), "rb") as f:
        data = f.read()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    text = text.replace(" ", "").replace("\n", "")
    assert "手数料通知書" in text and "30,000円" in text and WORK_NAME in text
    shot(clerk, "rsv-03-approved")

    # 4. After the award: the reservation becomes a menu-1 application, filled in.
    clerk.once("dialog", lambda dialog: dialog.accept())
    main.get_by_role("button", name="この予約で保証を申し込む").click()
    expect(clerk.get_by_role("status")).to_contain_text(
        "契約保証予約から前払金保証・契約保証の申込"
    )
    expect(control(clerk, "工事名")).to_have_value(WORK_NAME)
    expect(control(clerk, "請負代金額（円）")).to_have_value("12,345,000")
    expect(control(clerk, "契約保証の保証金額（円）")).to_have_value("1,234,500")
    shot(clerk, "rsv-04-menu1")
    clerk.goto("/reservations/")
    expect(main.get_by_role("row").filter(has_text=WORK_NAME)).to_contain_text("使用済")
