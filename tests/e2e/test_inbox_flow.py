"""The orderer's 受信箱 in a browser (issue 13's story, decision 0018), lean: a 津久見市
前払金保証 concluded under a 受信箱 policy reaches 土木課 工事担当 with no key; an office user
finds it in the list and records 受領; the clerk sees 受領; a 増額 is concluded; the office is
told (mail and badge) and sees 第2版; it sends 第2版 back with a reason; the clerk reads the
reason. Application and conclusion run through the services (their own browser tests cover
those pages). Screenshots: var/e2e/inbox-*."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from certificates import services as registry
from esure.choices import GuaranteeKind
from tests.conftest import (
    advance_office,
    deliver_to_inbox,
    make_company,
    make_concluded,
    make_member,
    make_office_user,
    make_orderer,
)
from tests.e2e.conftest import expect, shot
from tests.e2e.test_application_flow import control, log_in

pytestmark = pytest.mark.e2e

CLERK_EMAIL = "keiyaku@tsukumi-kensetsu.example.jp"
OFFICE_EMAIL = "doboku@city.tsukumi.example.jp"
WORK_NAME = "市道堅徳線道路改良工事"
REASON = "工事番号が契約書と異なる"


def test_delivered_received_changed_alerted_returned(new_page):
    tsukumi = make_orderer()
    deliver_to_inbox(tsukumi, GuaranteeKind.ADVANCE)
    office = advance_office(tsukumi)
    make_office_user(office, email=OFFICE_EMAIL)
    company = make_company(name="津久見建設株式会社")
    make_member(company, email=CLERK_EMAIL)
    today = timezone.localdate()
    (guarantee,) = make_concluded(
        company=company,
        items={GuaranteeKind.ADVANCE: 4_900_000},
        name=WORK_NAME,
        contract_date=today - datetime.timedelta(days=30),
        start_date=today - datetime.timedelta(days=29),
        end_date=today + datetime.timedelta(days=120),
    )
    number = guarantee.number_display
    key = registry.current_key(guarantee)

    # 1. The office user finds it in the 受信箱, 未受領, and opens it without a key.
    city = new_page()
    log_in(city, OFFICE_EMAIL)
    city.goto("/dsure/office/")
    main = city.get_by_role("main")
    row = main.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text(WORK_NAME)
    expect(row).to_contain_text("未受領")
    shot(city, "inbox-01-list")
    row.get_by_role("link", name=number).click()
    expect(main).to_contain_text("受信箱へ自動交付")
    assert key not in city.content()
    main.get_by_role("button", name="第1版を受領する").click()
    expect(city.get_by_role("status")).to_contain_text("第1版を受領しました")
    shot(city, "inbox-02-received")

    # 2. The clerk sees 提出済 → 閲覧済 → 受領.
    clerk = new_page()
    log_in(clerk, CLERK_EMAIL)
    clerk.goto(f"/certificates/{guarantee.number}/")
    steps = clerk.locator("ol.progress")
    expect(steps).to_contain_text(f"提出済：{office}（第1版")
    expect(steps).to_contain_text(f"閲覧済：{office}")
    expect(steps).to_contain_text(f"受領：{office}（第1版")
    shot(clerk, "inbox-03-clerk-sees-receipt")

    # 3. A 増額 is concluded: the office is mailed and its list shows a badge and 第2版.
    mail.outbox.clear()
    fee = {"kind": "none", "fee": 0, "old_amount": 4_900_000, "new_amount": 5_500_000}
    registry.issue_change(guarantee=guarantee, label="増額", fee=fee, amount=5_500_000)
    (told,) = [m for m in mail.outbox if OFFICE_EMAIL in m.to]
    assert "電子証書が届きました" in told.subject and "第2版" in told.body
    city.goto("/dsure/office/")
    row = main.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("新着：変更")
    expect(row).to_contain_text("第2版")
    expect(row).to_contain_text("未受領")
    shot(city, "inbox-04-alert")

    # 4. 第2版 goes back with a reason.
    row.get_by_role("link", name=number).click()
    expect(main).to_contain_text("第2版（最新）")
    control(city, "返戻の理由").fill(REASON)
    main.get_by_role("button", name="第2版を返戻する").click()
    expect(city.get_by_role("status")).to_contain_text("第2版を返戻しました")
    expect(main).to_contain_text(f"理由：{REASON}")
    shot(city, "inbox-05-returned")
    city.goto("/dsure/office/")
    expect(main.get_by_role("row").filter(has_text=number)).not_to_contain_text("新着")

    # 5. The clerk reads the reason.
    clerk.reload()
    expect(steps).to_contain_text("返戻")
    expect(steps).to_contain_text(REASON)
    expect(clerk.get_by_role("main")).to_contain_text("締結後の変更を申し込む")
    shot(clerk, "inbox-06-clerk-sees-return")
