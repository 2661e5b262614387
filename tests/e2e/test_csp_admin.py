"""The Content-Security-Policy in a real browser: staff log in through allauth (with TOTP) and
work in Django admin, and Chromium blocks nothing. Screenshots: var/e2e/csp-*.

tests/test_security_headers.py checks the markup of every admin page; this checks what only a
browser tells: that the admin's scripts and stylesheets (and its nonce'd inline style) load
and apply under the policy, and that a stored PDF still opens in Chromium's own viewer
(older Chromium refused it under `object-src 'none'`: crbug.com/271452).
"""

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Company
from certificates.models import Document
from tests.conftest import PASSWORD, make_company, make_concluded, make_staff
from tests.e2e.conftest import expect, shot, totp_code

pytestmark = pytest.mark.e2e

STAFF_EMAIL = "csp@surety.example.jp"
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # make_staff()'s authenticator
ADMIN = "/" + settings.ESURE_ADMIN_PATH


def watch_csp(page):
    """Collect every CSP violation Chromium reports on this page (it logs each one)."""
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def test_admin_works_under_the_policy(new_page):
    make_staff(email=STAFF_EMAIL)
    make_company(name="株式会社CSP建設", status=Company.Status.PENDING)
    page = new_page()
    violations = watch_csp(page)

    response = page.goto("/accounts/login/")
    assert "frame-ancestors 'none'" in response.all_headers()["content-security-policy"]
    page.get_by_label("メールアドレス", exact=True).fill(STAFF_EMAIL)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="ログイン").click()
    page.get_by_label("コード", exact=True).fill(totp_code(STAFF_TOTP_SECRET))
    page.get_by_role("main").get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("main")).to_contain_text("管理画面")

    page.goto(ADMIN)
    expect(page.locator("#site-name")).to_contain_text("esure 管理")
    # The admin's stylesheets applied: its header has its colour, not the browser's nothing.
    header = page.locator("#header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header not in ("rgba(0, 0, 0, 0)", "transparent")
    shot(page, "csp-01-admin-index")

    # A change list with its filters and actions (admin JavaScript), then a change form.
    page.goto(f"{ADMIN}accounts/company/")
    expect(page.get_by_text("株式会社CSP建設")).to_be_visible()
    page.locator("#action-toggle").check()  # actions.js: selects every row
    expect(page.locator(".action-counter")).to_contain_text("1")
    shot(page, "csp-02-admin-changelist")
    page.get_by_role("link", name="株式会社CSP建設").click()
    expect(page.locator("#content h1")).to_be_visible()
    shot(page, "csp-03-admin-change-form")

    assert violations == []

    # The detector itself: an inline <style> without the nonce is reported.
    page.evaluate(
        "() => { const s = document.createElement('style');"
        " s.textContent = 'body { color: red }'; document.head.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert any("style-src" in violation for violation in violations), violations

    # A certificate PDF, served inline with the same policy, opens in Chromium's PDF viewer.
    make_concluded()
    document = Document.objects.order_by("pk").first()
    url = reverse("admin:certificates_document_download", args=[document.pk])
    response = page.goto(url, wait_until="commit")  # a PDF never fires "load"
    headers = response.all_headers()  # as sent (`.headers` shows the viewer's own)
    assert headers["content-type"] == "application/pdf"
    assert "object-src 'none'" in headers["content-security-policy"]
    viewer = "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/"  # Chromium's PDF viewer
    for _ in range(50):
        if any(frame.url.startswith(viewer) for frame in page.frames):
            break
        page.wait_for_timeout(200)
    assert any(frame.url.startswith(viewer) for frame in page.frames), [
        frame.url for frame in page.frames
    ]
    page.wait_for_timeout(1500)  # let the viewer paint for the screenshot
    shot(page, "csp-04-pdf-in-chromium")
