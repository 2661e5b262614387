"""The office 管理者's API pages in a browser, lean: create a token (shown once, then only
its name and prefix), revoke it; register a webhook endpoint (loopback admitted by the test
setting) and see its signing secret once, then the endpoint's own page. Every page is
checked by axe-core (new_page). Screenshots: var/e2e/api-*."""

import pytest

from api.models import ApiToken, WebhookEndpoint
from tests.conftest import advance_office, make_office_user, make_orderer
from tests.e2e.conftest import expect, shot
from tests.e2e.test_application_flow import control, log_in

pytestmark = pytest.mark.e2e

ADMIN_EMAIL = "kanri@city.tsukumi.example.jp"
HOOK = "https://127.0.0.1:8443/esure-hook"


def test_a_token_and_a_webhook_are_shown_once(new_page, settings):
    settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = True
    office = advance_office(make_orderer())
    admin = make_office_user(office, email=ADMIN_EMAIL)
    admin.office_membership.role = admin.office_membership.Role.ADMIN
    admin.office_membership.save(update_fields=["role"])

    page = new_page()
    log_in(page, ADMIN_EMAIL)

    # 1. A token: created, shown once in full.
    page.goto("/api/tokens/")
    main = page.get_by_role("main")
    control(page, "名前（用途）").fill("財務会計システム（本番）")
    main.get_by_role("button", name="作成する").click()
    secret = control(page, "APIトークン").input_value()
    assert secret.startswith(ApiToken.objects.get().prefix) and len(secret) == 49
    shot(page, "api-token-created")

    # 2. Again: only its name and prefix, never the token.
    page.goto("/api/tokens/")
    row = main.get_by_role("row").filter(has_text="財務会計システム（本番）")
    expect(row).to_contain_text("有効")
    assert secret not in page.content()

    # 3. Revoked (the page asks first).
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="失効させる").click()
    expect(main.get_by_role("row").filter(has_text="財務会計システム（本番）")).to_contain_text(
        "失効"
    )
    assert ApiToken.objects.get().revoked_at is not None

    # 4. A webhook endpoint: its signing secret shown once, then its own page.
    page.goto("/api/webhooks/")
    control(page, "送信先URL").fill(HOOK)
    main.get_by_role("checkbox").first.check()
    main.get_by_role("button", name="登録する").click()
    whsec = control(page, "署名用の秘密鍵").input_value()
    assert whsec.startswith("whsec_")
    shot(page, "api-webhook-created")
    main.get_by_role("link", name=HOOK).click()
    expect(main.get_by_role("heading", level=1)).to_contain_text("Webhook")
    assert whsec not in page.content()
    assert page.url.endswith(f"/api/webhooks/{WebhookEndpoint.objects.get().pk}/")
    shot(page, "api-webhook-page")
