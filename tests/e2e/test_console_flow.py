"""The staff console in a browser (issue 20): staff log in and see 2 applications waiting
for review, open the oldest from the work queue and approve it, import the bank's statement
(全銀協 入出金取引明細) whose credit concludes it, and see it leave the queue. Screenshots of
the first page and the 業務状況 page: var/e2e/console-*.png."""

import pytest
from django.utils import timezone

from applications import fees
from tests.conftest import (
    make_application,
    make_company,
    make_fee_tables,
    make_orderer,
    make_staff,
    make_work,
)
from tests.console.statement_files import credit, fixed_file
from tests.e2e.conftest import expect, shot
from tests.e2e.test_issuance_flow import STAFF_EMAIL, staff_log_in, work_dates

pytestmark = pytest.mark.e2e


def queue_row(page, slug):
    return page.locator(f"#work-queue tr.queue-{slug}")


def test_staff_work_the_queue_and_conclude_from_the_statement(new_page, tmp_path):
    make_fee_tables()
    make_orderer()
    company = make_company(name="津久見建設株式会社", name_kana="ツクミケンセツカブシキガイシャ")
    make_staff(email=STAFF_EMAIL)
    first, second = (
        make_application(
            company=company, work=make_work(company, **work_dates()), status="submitted"
        )
        for _ in range(2)
    )
    del second

    staff = new_page()
    staff_log_in(staff)
    staff.goto("/admin/")
    expect(queue_row(staff, "review")).to_contain_text("2件")
    shot(staff, "console-first-page")

    # The oldest application, from the queue's list.
    queue_row(staff, "review").get_by_role("link", name="審査待ちの申込", exact=True).click()
    staff.get_by_role("link", name=str(first.pk), exact=True).first.click()
    staff.get_by_role("button", name="承認").click()
    expect(staff.locator(".messagelist .success")).to_contain_text("承認しました")

    staff.goto("/admin/")
    expect(queue_row(staff, "review")).to_contain_text("1件")
    expect(queue_row(staff, "fee")).to_contain_text("1件")

    # The bank's statement: the fee, sent in the company's name in half-width kana.
    first.refresh_from_db()
    today = timezone.localdate()
    due = fees.expected_fee(first, today).due
    statement = tmp_path / "nyushukkin.txt"
    statement.write_bytes(fixed_file([credit(due, "ﾂｸﾐｹﾝｾﾂ(ｶ", booked_on=today)]))
    staff.get_by_role("link", name="入出金明細の取込（保証料入金）").click()
    staff.get_by_label("入出金明細ファイル", exact=False).set_input_files(str(statement))
    staff.get_by_role("button", name="読み込んで照合する").click()
    expect(staff.locator(".credit-matched")).to_contain_text(f"申込番号 {first.pk}")
    staff.get_by_role("button", name="選んだ入金を保証料入金として記録し、締結する").click()
    expect(staff.locator(".messagelist .success")).to_contain_text("締結しました")

    staff.goto("/admin/")
    expect(queue_row(staff, "fee")).to_contain_text("0件")
    expect(queue_row(staff, "review")).to_contain_text("1件")

    staff.get_by_role("link", name="業務状況（グラフ・月次CSV）").click()
    expect(staff.get_by_role("heading", name="保証契約の締結件数（月別・種類別）")).to_be_visible()
    shot(staff, "console-business")
