"""A 共同企業体 in a browser (issue #19): the representative's clerk registers the JV with its
partner (出資比率 60:40) and applies for it in menu 1; staff approve and record the fee, which
concludes it; the certificate names the JV with its members and ratios; the partner's clerk
sees the guarantee read-only (no key). Screenshots: var/e2e/jv-*."""

import datetime

import pytest
from django.utils import timezone

from applications import fees
from applications import services as app_services
from applications.models import Application
from certificates.models import Guarantee
from tests.conftest import make_company, make_fee_tables, make_member, make_staff
from tests.e2e.conftest import expect, shot
from tests.e2e.test_application_flow import control, log_in
from tests.e2e.test_issuance_flow import (
    STAFF_EMAIL,
    admin_change_url,
    make_tsukumi,
    staff_log_in,
)

pytestmark = pytest.mark.e2e

CLERK_EMAIL = "keiyaku@demo-kensetsu.example.jp"
PARTNER_EMAIL = "jimu@tsukumi-kensetsu.example.jp"
JV_NAME = "津久見・デモ特定建設工事共同企業体"
WORK_NAME = "津久見港臨港道路整備工事"


def test_a_jv_applies_is_concluded_and_the_partner_reads_it(new_page):
    make_fee_tables()
    tsukumi = make_tsukumi()
    company = make_company(name="株式会社デモ建設")
    partner = make_company(name="津久見建設株式会社")
    make_member(company, email=CLERK_EMAIL)
    make_member(partner, email=PARTNER_EMAIL)
    staff_user = make_staff(email=STAFF_EMAIL)

    # 1. The representative's clerk registers the JV on the company page.
    clerk = new_page()
    log_in(clerk, CLERK_EMAIL)
    main = clerk.get_by_role("main")
    clerk.goto("/company/")
    main.get_by_role("link", name="貴社を代表者とする共同企業体を登録する").click()
    control(clerk, "共同企業体の名称").fill(JV_NAME)
    clerk.get_by_label("特定建設工事共同企業体").check()
    clerk.get_by_label("代表者名義の口座に一括して預託").check()
    control(clerk, "代表者（貴社）の出資比率（%）").fill("60")
    control(clerk, "構成員1の法人番号").fill(partner.corporate_number)
    control(clerk, "構成員1の出資比率（%）").fill("40")
    shot(clerk, "jv-01-register")
    main.get_by_role("button", name="登録する").click()
    expect(clerk.get_by_role("status")).to_contain_text(f"{JV_NAME}を登録しました。")
    expect(main.get_by_role("row").filter(has_text=JV_NAME)).to_contain_text(
        "津久見建設株式会社 40.0%"
    )

    # 2. Menu 1 for the JV: 保証契約者 is the JV; the work and a 前払金保証.
    clerk.goto("/applications/new/1/")
    control(clerk, "保証契約者").select_option(label=JV_NAME)
    control(clerk, "発注者").select_option(label=tsukumi.name)
    control(clerk, "発注機関・担当課").select_option(label=f"{tsukumi.name} 土木課 工事担当")
    control(clerk, "工事名").fill(WORK_NAME)
    control(clerk, "工事場所").fill("津久見市大字津久見地内")
    clerk.get_by_role("group", name="工事の区分").get_by_label("工事", exact=True).check()
    control(clerk, "契約方法").select_option(label="一般競争入札")
    control(clerk, "請負代金額（円）").fill("12,345,000")
    today = timezone.localdate()
    control(clerk, "契約日").fill(today.isoformat())
    control(clerk, "工期（自）").fill((today + datetime.timedelta(days=1)).isoformat())
    control(clerk, "工期（至）").fill((today + datetime.timedelta(days=150)).isoformat())
    control(clerk, "前払金保証を申し込む").check()
    control(clerk, "前払金保証の保証金額（円）").fill("4,900,000")
    clerk.get_by_role("radio", name="電子交付").check()
    clerk.get_by_label("契約書に「", exact=False).check()
    control(clerk, "ご担当者名").fill("デモ 花子")
    control(clerk, "ご担当者電話番号").fill("0972-82-1234")
    shot(clerk, "jv-02-menu1")
    main.get_by_role("button", name="申込む").click()
    expect(clerk.get_by_role("status")).to_contain_text("お申込みを受け付けました（手続き中）")
    expect(main).to_contain_text(JV_NAME)

    # 3. Staff approve (the review is tested elsewhere) and record the fee in admin.
    application = Application.objects.get()
    assert application.work.joint_venture.name == JV_NAME
    app_services.approve_application(application=application, by=staff_user)
    staff = new_page()
    staff_log_in(staff)
    staff.goto(admin_change_url(application.pk))
    box = staff.locator(".fee-box")
    expect(box).to_contain_text(f"金{fees.expected_fee(application, today).due:,}円")
    box.get_by_role("button", name="入金を記録して締結する").click()
    guarantee = Guarantee.objects.get()
    expect(staff.locator(".messagelist .success")).to_have_text(
        f"保証契約を締結しました: {guarantee.number_display}"
    )

    # 4. The certificate names the JV, its 代表者 and the members with their ratios.
    clerk.goto(f"/certificates/{guarantee.number}/")
    sheet = main.locator("article.certificate-sheet")
    expect(sheet).to_contain_text(JV_NAME)
    expect(sheet).to_contain_text("株式会社デモ建設（代表者） 60.0%、津久見建設株式会社 40.0%")
    expect(main.get_by_role("button", name="認証キーの表示")).to_be_visible()
    shot(clerk, "jv-03-certificate")

    # 5. The partner's clerk sees it in the list and reads it: no key, no hand-over.
    member = new_page()
    log_in(member, PARTNER_EMAIL)
    member_main = member.get_by_role("main")
    member.goto("/certificates/")
    member_main.get_by_role("link", name=guarantee.number_display).click()
    expect(member_main).to_contain_text("閲覧のみ")
    expect(member_main.locator("article.certificate-sheet")).to_contain_text(JV_NAME)
    expect(member_main.get_by_role("button", name="認証キーの表示")).to_have_count(0)
    expect(member_main.get_by_role("button", name="発注者へ電子で提出")).to_have_count(0)
    shot(member, "jv-04-partner-read-only")
