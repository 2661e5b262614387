"""完成 in a browser (issue #18, decision 0026), lean: a 津久見市 前払金保証 with its
前払金専用口座 reached 土木課 工事担当's 受信箱; an office user records its 完成 on the
guarantee's D-Sure page; the guarantee shows 完了 there and in the office's list; the clerk
sees 完了 on the certificate page and 指定解除 with the remaining balance on the account page.
Setup through the services (other browser tests cover those pages). Screenshots:
var/e2e/completion-*."""

import datetime

import pytest
from django.utils import timezone

from esure.choices import GuaranteeKind
from esure.wareki import to_wareki
from tests.conftest import (
    advance_office,
    deliver_to_inbox,
    make_advance_account,
    make_company,
    make_concluded,
    make_deposit,
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


def test_the_office_records_completion_and_everyone_sees_completed_and_released(new_page):
    tsukumi = make_orderer()
    deliver_to_inbox(tsukumi, GuaranteeKind.ADVANCE)
    make_office_user(advance_office(tsukumi), email=OFFICE_EMAIL)
    company = make_company(name="津久見建設株式会社")
    clerk_user = make_member(company, email=CLERK_EMAIL)
    today = timezone.localdate()
    (guarantee,) = make_concluded(
        company=company,
        items={GuaranteeKind.ADVANCE: 4_900_000},
        name=WORK_NAME,
        contract_date=today - datetime.timedelta(days=120),
        start_date=today - datetime.timedelta(days=119),
        end_date=today + datetime.timedelta(days=30),
    )
    account = make_advance_account(guarantee, by=clerk_user)
    make_deposit(account)
    number = guarantee.number_display

    # 1. The office user opens the guarantee from the list and records its 完成 today.
    city = new_page()
    log_in(city, OFFICE_EMAIL)
    city.goto("/dsure/office/")
    main = city.get_by_role("main")
    main.get_by_role("row").filter(has_text=number).get_by_role("link", name=number).click()
    # Typed from paper in 和暦: a day after 平成 ended is refused, shown back as typed.
    control(city, "完成日（完成検査・引渡しの日）").fill("平成31年5月1日")
    main.get_by_role("button", name="完成を記録する").click()
    expect(main).to_contain_text("平成は平成31年4月30日までです。")
    expect(control(city, "完成日（完成検査・引渡しの日）")).to_have_value("平成31年5月1日")
    shot(city, "completion-00-wareki-refused")
    # Full width, as an IME often leaves it: 令和８年１２月６日.
    typed = to_wareki(today).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    control(city, "完成日（完成検査・引渡しの日）").fill(typed)
    control(city, "メモ（任意。例: 完成検査調書の番号）").fill("完成検査調書 第12号")
    shot(city, "completion-01-form")
    main.get_by_role("button", name="完成を記録する").click()
    expect(city.get_by_role("status")).to_contain_text(f"完成（{to_wareki(today)}）を記録しました")
    expect(main.locator("dl.facts")).to_contain_text("完了")
    expect(main.locator("dl.facts")).to_contain_text(to_wareki(today))
    shot(city, "completion-02-recorded")

    # 2. The office's list shows 完了, also under its filter.
    city.goto("/dsure/office/?status=completed")
    row = main.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("完了")
    shot(city, "completion-03-list")

    # 3. The clerk sees 完了 on the certificate and 指定解除 with the balance on the account.
    clerk = new_page()
    log_in(clerk, CLERK_EMAIL)
    clerk.goto(f"/certificates/{guarantee.number}/")
    expect(clerk.get_by_role("main")).to_contain_text("状態: 完了")
    shot(clerk, "completion-04-clerk-certificate")
    clerk.goto(f"/advances/{account.pk}/")
    facts = clerk.get_by_role("main").locator("dl.facts")
    expect(facts).to_contain_text("指定解除")
    expect(facts).to_contain_text("残高 金4,900,000円")
    expect(clerk.get_by_role("main")).not_to_contain_text("払出依頼を作成する")
    shot(clerk, "completion-05-clerk-account-released")
