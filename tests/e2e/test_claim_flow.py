"""保証金の請求 in a browser (issue 18), lean: after 契約解除 the city's office user files a
claim on a 前払金保証 with its 解除通知 and 出来形検査調書 and reads the amount with its
working; staff approve the computed amount and record the payment in admin; the city and the
contractor both read 支払済. The guarantee is registered through the builders (its issuance
has its own browser tests). Screenshots: var/e2e/claim-*."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from claims.models import Claim
from esure.choices import GuaranteeKind
from tests.claims.conftest import deliver, office_of
from tests.conftest import (
    make_company,
    make_member,
    make_office_user,
    make_orderer,
    make_registered_guarantee,
    make_staff,
    make_work,
)
from tests.e2e.conftest import expect, shot
from tests.e2e.test_application_flow import control, log_in
from tests.e2e.test_issuance_flow import STAFF_EMAIL, staff_log_in

pytestmark = pytest.mark.e2e

CLERK_EMAIL = "keiyaku@tsukumi-kensetsu.example.jp"
OFFICE_EMAIL = "doboku@city.tsukumi.example.jp"
WORK_NAME = "市道堅徳線道路改良工事"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200


def test_city_claims_staff_approve_and_pay_both_parties_read_paid(new_page):
    tsukumi = make_orderer()
    company = make_company(name="津久見建設株式会社")
    make_member(company, email=CLERK_EMAIL)
    office = office_of(tsukumi, GuaranteeKind.ADVANCE)
    make_office_user(office, email=OFFICE_EMAIL)
    make_staff(email=STAFF_EMAIL)
    today = timezone.localdate()
    work = make_work(
        company,
        orderer=tsukumi,
        name=WORK_NAME,
        contract_date=today - datetime.timedelta(days=30),
        start_date=today - datetime.timedelta(days=29),
        end_date=today + datetime.timedelta(days=120),
    )
    guarantee = make_registered_guarantee(work=work, amount=4_900_000)
    deliver(guarantee, office)
    terminated_on = today - datetime.timedelta(days=2)

    # 1. The office user types the number as printed and files the claim with two documents.
    city = new_page()
    log_in(city, OFFICE_EMAIL)
    city.goto("/claims/office/")
    main = city.get_by_role("main")
    control(city, "保証契約番号").fill(guarantee.number_display)
    main.get_by_role("button", name="請求の入力へ進む").click()
    expect(main.get_by_role("heading", level=1)).to_contain_text("保証金の請求")
    expect(main).to_contain_text(WORK_NAME)
    control(city, "契約解除の日").fill(terminated_on.isoformat())
    control(city, "契約解除の理由").fill("受注者の履行遅滞により、約款に基づき契約を解除した。")
    control(city, "支払済の前払金").fill("４，９００，０００")
    control(city, "支払済の出来形払（部分払）").fill("1,000,000")
    control(city, "既済部分の代価").fill("3,000,000")
    control(city, "契約解除の通知（写し）").set_input_files(
        files=[{"name": "kaijo-tsuchi.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    control(city, "出来形検査調書").set_input_files(
        files=[{"name": "dekigata.jpg", "mimeType": "image/jpeg", "buffer": JPEG}]
    )
    shot(city, "claim-01-form")
    main.get_by_role("button", name="請求する").click()
    expect(city.get_by_role("status")).to_contain_text("保証金の請求を受け付けました。")
    expect(main.locator("[data-status]")).to_have_text("受付（審査中）")
    expect(main.locator("[data-claimable]")).to_contain_text("2,900,000円")
    expect(main.locator("[data-working]")).to_contain_text(
        "前払金 4,900,000円 ＋ 出来形払 1,000,000円 − 既済部分の代価 3,000,000円 ＝ 2,900,000円"
    )
    expect(main).to_contain_text("kaijo-tsuchi.pdf")
    shot(city, "claim-02-filed")
    claim = Claim.objects.get()

    # 2. Staff approve the computed amount (prefilled) and record the payment.
    staff = new_page()
    staff_log_in(staff)
    staff.goto(f"/{settings.ESURE_ADMIN_PATH}claims/claim/")
    expect(staff.locator("#result_list")).to_contain_text(guarantee.number_display)
    staff.goto(f"/{settings.ESURE_ADMIN_PATH}claims/claim/{claim.pk}/change/")
    expect(staff.get_by_role("link", name="kaijo-tsuchi.pdf")).to_be_visible()
    approve = staff.locator(".review-box").filter(has_text="支払を決定する")
    expect(approve.get_by_label("支払決定額")).to_have_value("2,900,000")
    shot(staff, "claim-03-admin")
    approve.get_by_role("button", name="支払を決定する").click()
    expect(staff.locator(".messagelist .success")).to_have_text("支払を決定しました。")
    payment = staff.locator(".review-box").filter(has_text="支払を記録する")
    expect(payment.get_by_label("支払額")).to_have_value("2,900,000")
    payment.get_by_role("button", name="支払を記録する").click()
    expect(staff.locator(".messagelist .success")).to_have_text("支払を記録しました。")
    shot(staff, "claim-04-paid")

    # 3. The city and the contractor read 支払済.
    city.reload()
    expect(main.locator("[data-status]")).to_have_text("支払済")
    expect(main.locator("[data-history]")).to_contain_text("支払決定")
    shot(city, "claim-05-city-paid")
    clerk = new_page()
    log_in(clerk, CLERK_EMAIL)
    clerk.goto("/claims/")
    row = clerk.get_by_role("main").get_by_role("row").filter(has_text=guarantee.number_display)
    expect(row).to_contain_text("支払済")
    row.get_by_role("link").first.click()
    expect(clerk.get_by_role("main").locator("[data-paid]")).to_contain_text("2,900,000円")
    shot(clerk, "claim-06-contractor-paid")
