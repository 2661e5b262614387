"""電子証書の検証 in a browser (issue #14): the clerk downloads the certificate PDF from
電子証書の確認, the city uploads that file to D-Sure's check page (no key) and reads 有効 and
第1版; after a 増額 the same file reads 変更前 — 最新は第2版. Screenshots: var/e2e/check-*."""

import pytest
from django.urls import reverse

from certificates import services
from certificates.selectors import current_terms
from tests.conftest import make_company, make_concluded, make_member, make_orderer
from tests.e2e.conftest import expect, shot
from tests.e2e.test_application_flow import log_in
from tests.e2e.test_issuance_flow import open_pdf, work_dates

pytestmark = pytest.mark.e2e

CLERK_EMAIL = "keiyaku@tsukumi-kensetsu.example.jp"


def check(page, path):
    """The city's side: open 電子証書の検証, upload the file, return the verdict."""
    page.goto(reverse("dsure:check"))
    page.get_by_label("確認する PDF ファイル（5 MB まで）").set_input_files(path)
    page.get_by_role("button", name="検証する").click()
    verdict = page.locator("section.verdict")
    expect(verdict).to_be_visible()
    return verdict


def test_the_city_checks_the_clerks_pdf_and_sees_when_it_is_superseded(new_page, tmp_path):
    make_orderer()
    company = make_company(name="津久見建設株式会社")
    make_member(company, email=CLERK_EMAIL)
    [guarantee] = make_concluded(company=company, **work_dates())

    clerk = new_page()
    log_in(clerk, CLERK_EMAIL)
    clerk.goto(reverse("certs:detail", args=[guarantee.number]))
    data = open_pdf(clerk, clerk.get_by_role("link", name="保証証書 PDF"))
    path = tmp_path / f"{guarantee.number_display}.pdf"
    path.write_bytes(data)

    city = new_page()  # another browser: no session, no key
    verdict = check(city, path)
    expect(verdict).to_contain_text("有効な電子証書です")
    expect(verdict).to_contain_text(guarantee.number_display)
    expect(verdict).to_contain_text("第1版")
    expect(verdict.locator(".badge")).to_have_text("有効")
    expect(verdict).to_contain_text("esure に保存された原本と一致します")
    shot(city, "check-valid")

    terms = current_terms(guarantee)
    services.issue_change(
        guarantee=guarantee, label="増額", fee={"amount": 1000}, amount=terms.amount + 1_000_000
    )
    verdict = check(city, path)
    expect(verdict.locator(".badge")).to_have_text("変更前 — 最新は第2版")
    shot(city, "check-superseded")
