"""Menu 5 in a browser (DESIGN.md §4 "Changes after conclusion"; issue 6's acceptance): the
clerk requests a 工期延長 (保証期限変更) of a concluded 津久見市 前払金保証, staff approve it in
admin, the clerk sees 第2版 and shows the 認証キー, and the city — with the same number and
key, no account — sees 第2版 as current and 第1版 as 変更前 in D-Sure and downloads both
original PDFs, whose SHA-256 are the ones recorded at issuance. Screenshots: var/e2e/change-*.
"""

import datetime
import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from certificates.models import Document
from esure.choices import GuaranteeKind
from esure.wareki import to_wareki
from tests.conftest import make_company, make_concluded, make_member, make_orderer, make_staff
from tests.e2e.conftest import expect, shot, totp_code
from tests.e2e.test_application_flow import control, log_in, password_again

pytestmark = pytest.mark.e2e

CLERK_EMAIL = "keiyaku@tsukumi-kensetsu.example.jp"
STAFF_EMAIL = "shinsa@surety.example.jp"
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # make_staff()'s authenticator
WORK_NAME = "市道堅徳線道路改良工事"
KEY_RE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")


def recorded_sha256(guarantee, version):
    """The SHA-256 recorded at issuance for the certificate PDF of one version."""
    return Document.objects.get(
        certificate__guarantee=guarantee,
        certificate__version=version,
        kind=Document.Kind.CERTIFICATE,
    ).sha256


def download(page, link):
    """Save the PDF a link points to (as 「名前を付けてリンク先を保存」 does); return its bytes.

    D-Sure serves the PDF inline (Content-Disposition: inline), so a plain click opens
    Chromium's viewer and no download event comes: the link is given the `download`
    attribute first, which makes the same request and saves the response unchanged.
    """
    link.evaluate("a => a.setAttribute('download', '')")
    with page.expect_download() as info:
        link.click()
    return Path(info.value.path()).read_bytes()


def test_clerk_extends_the_period_staff_approve_city_sees_v2_and_v1(new_page):
    make_orderer()
    company = make_company(name="津久見建設株式会社")
    make_member(company, email=CLERK_EMAIL)
    staff_user = make_staff(email=STAFF_EMAIL)
    # Dates around today (Tokyo): the guarantee is 有効 whenever this runs.
    today = timezone.localdate()
    end = today + datetime.timedelta(days=120)
    new_end = end + datetime.timedelta(days=61)
    (guarantee,) = make_concluded(
        company=company,
        items={GuaranteeKind.ADVANCE: 4_900_000},
        by=staff_user,
        name=WORK_NAME,
        contract_date=today - datetime.timedelta(days=30),
        start_date=today - datetime.timedelta(days=29),
        end_date=end,
    )
    number = guarantee.number_display
    mail.outbox.clear()

    # 1. The clerk opens HOME → 5 and picks the guarantee.
    clerk = new_page()
    log_in(clerk, CLERK_EMAIL)
    main = clerk.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("ホーム")
    main.get_by_role("link", name="5 保証契約締結後の変更").click()
    expect(main.get_by_role("heading", level=1)).to_contain_text("保証契約の選択")
    row = main.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text(WORK_NAME)
    expect(row).to_contain_text("津久見市")
    shot(clerk, "change-01-choose-guarantee")
    row.get_by_role("link", name="変更を申し込む").click()

    # 2. The form shows the current values; the clerk asks for a 保証期限変更.
    expect(main.get_by_role("heading", level=1)).to_contain_text("保証契約締結後の変更 申込")
    current = main.get_by_role("group", name=re.compile("変更する保証契約"))
    expect(current).to_contain_text("第1版")
    expect(current).to_contain_text("12,345,000円")
    expect(current).to_contain_text("4,900,000円")
    expect(current).to_contain_text(to_wareki(end))
    new_end_field = control(clerk, "変更後の工期（至）")
    expect(new_end_field).to_be_hidden()  # only the chosen change's fields are shown
    clerk.get_by_role("radio", name="保証期限変更（工期の延長・短縮）").check()
    expect(new_end_field).to_be_visible()
    expect(control(clerk, "変更後の請負代金額（円）")).to_be_hidden()
    control(clerk, "変更契約日").fill(today.isoformat())
    new_end_field.fill(new_end.isoformat())
    control(clerk, "ご担当者名").fill("津久見 花子")
    control(clerk, "ご担当者電話番号").fill("0972-82-1234")
    expect(main.get_by_role("listitem").filter(has_text="入力してください")).to_have_count(0)
    shot(clerk, "change-02-period-form")
    main.get_by_role("button", name="申込む").click()
    expect(clerk.get_by_role("status")).to_contain_text("お申込みを受け付けました（手続き中）")
    expect(main).to_contain_text("状態: 手続き中")
    expect(main).to_contain_text("保証期限変更（工期の延長・短縮）")
    expect(main).to_contain_text(to_wareki(new_end))
    pk = int(re.search(r"/applications/(\d+)/$", clerk.url).group(1))
    shot(clerk, "change-03-submitted")

    # 3. Staff log in with TOTP and approve in admin: the change concludes at once.
    staff = new_page()
    log_in(staff, STAFF_EMAIL)
    control(staff, "コード").fill(totp_code(STAFF_TOTP_SECRET))
    staff.get_by_role("main").get_by_role("button", name="ログイン").click()
    expect(staff.get_by_role("main")).to_contain_text("管理画面")
    staff.goto(f"/{settings.ESURE_ADMIN_PATH}applications/application/{pk}/change/")
    expect(staff.get_by_text("すべての規則を満たしています。")).to_be_visible()
    shot(staff, "change-04-admin-review")
    staff.get_by_role("button", name=re.compile("^承認")).click()
    expect(staff.get_by_text(f"申込番号 {pk} を承認しました")).to_be_visible()
    expect(staff.get_by_role("button", name=re.compile("^承認"))).to_have_count(0)
    shot(staff, "change-05-admin-approved")

    # 4. The clerk sees 締結済, then 第2版 with what changed on 電子証書の確認.
    clerk.reload()
    expect(main).to_contain_text("状態: 締結済")
    shot(clerk, "change-06-concluded")
    main.get_by_role("link", name="電子証書の確認").click()
    main.get_by_role("link", name=number).click()
    expect(main).to_contain_text("第2版")
    expect(main.get_by_text("変更あり", exact=True)).to_be_visible()
    versions = main.get_by_role("table").filter(has_text="発行日時")
    v2_row = versions.get_by_role("row").filter(has_text="第2版")
    expect(v2_row).to_contain_text("保証期限変更")
    expect(v2_row).to_contain_text(to_wareki(new_end))
    expect(versions.get_by_role("row").filter(has_text="第1版")).to_contain_text("（変更前）")
    shot(clerk, "change-07-certificate-v2")
    main.get_by_role("button", name="認証キーの表示").click()
    password_again(clerk).click()
    key = main.locator("[data-key]").inner_text().strip()
    assert KEY_RE.match(key), key
    shot(clerk, "change-08-key")

    # The clerk was told of 第2版 by mail, without the key.
    (told,) = [m for m in mail.outbox if m.to == [CLERK_EMAIL] and "第2版" in m.subject]
    assert number in told.body and key not in told.body

    # 5. The city (no account) opens D-Sure with the same number and key.
    city = new_page()
    city.goto("/dsure/")
    city_main = city.get_by_role("main")
    control(city, "保証契約番号").fill(number)
    control(city, "認証キー").fill(key.lower().replace("-", " "))
    shot(city, "change-09-dsure-lookup")
    city_main.get_by_role("button", name="電子証書を表示する").click()
    expect(city_main.get_by_text("変更あり", exact=True)).to_be_visible()
    expect(city_main).to_contain_text("第2版（最新）")
    history = city_main.get_by_role("table").filter(has_text="発行日時")
    v1_row = history.get_by_role("row").filter(has_text="第1版")
    v2_row = history.get_by_role("row").filter(has_text="第2版")
    expect(v1_row).to_contain_text("（変更前）")
    expect(v2_row).not_to_contain_text("変更前")
    expect(v2_row).to_contain_text("保証期限変更")
    shot(city, "change-10-dsure-v2")
    v2_pdf = download(city, city_main.get_by_role("link", name="PDF（原本データ）をダウンロード"))
    assert hashlib.sha256(v2_pdf).hexdigest() == recorded_sha256(guarantee, 2)

    # 6. 第1版 stays viewable (marked 変更前) and its original downloads byte for byte.
    v1_row.get_by_role("link", name="画面").click()
    expect(city_main.get_by_text("変更前", exact=True)).to_be_visible()
    expect(city_main).to_contain_text("最新は第2版")
    expect(city_main).to_contain_text(to_wareki(end))
    shot(city, "change-11-dsure-v1")
    v1_pdf = download(city, city_main.get_by_role("link", name="PDF（原本データ）をダウンロード"))
    assert hashlib.sha256(v1_pdf).hexdigest() == recorded_sha256(guarantee, 1)
    assert v1_pdf != v2_pdf
