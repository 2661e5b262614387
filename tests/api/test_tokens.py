"""APIトークン: the office 管理者 creates a token (shown once, stored only as its SHA-256),
sees when each was last used, revokes it; staff revoke any token in admin."""

import datetime
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api import services
from api.forms import MSG_EXPIRES_PAST
from api.models import ApiToken
from audit.models import AuditEvent
from tests.api.conftest import api_client, make_token
from tests.conftest import make_office_user, make_orderer


@pytest.fixture
def admin_client(office_admin):
    browser = Client()
    browser.force_login(office_admin)
    return browser


def test_a_token_is_256_random_bits_stored_only_as_its_sha256(office, office_admin):
    created = services.create_token(office=office, name="財務会計", by=office_admin)
    secret = created.secret
    assert secret.startswith("esure_") and len(secret) == len("esure_") + 43
    stored = ApiToken.objects.get()
    assert stored.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(list(ApiToken.objects.values()))
    assert stored.prefix == secret[:10]
    other = services.create_token(office=office, name="財務会計", by=office_admin)
    assert other.secret != secret


def test_creating_and_revoking_are_in_the_audit_trail_without_the_token(office, office_admin):
    created = services.create_token(office=office, name="財務会計", by=office_admin)
    services.revoke_token(token=created.token, by=office_admin)
    events = list(AuditEvent.objects.filter(action__startswith="api_token.").order_by("seq"))
    assert [e.action for e in events] == ["api_token.created", "api_token.revoked"]
    assert all(e.actor == office_admin.email for e in events)
    assert created.secret not in str([e.data for e in events])


def test_revoking_twice_is_refused(office, office_admin):
    record, _ = make_token(office)
    services.revoke_token(token=record, by=office_admin)
    with pytest.raises(ValidationError):
        services.revoke_token(token=record, by=office_admin)


def test_an_expiry_in_the_past_is_refused(office, office_admin):
    with pytest.raises(ValidationError):
        services.create_token(
            office=office,
            name="x",
            by=office_admin,
            expires_at=timezone.now() - datetime.timedelta(seconds=1),
        )


def test_the_page_shows_a_new_token_once(admin_client, office):
    response = admin_client.post(
        reverse("api:tokens"), {"name": "財務会計システム", "expires_on": ""}
    )
    assert response.status_code == 200
    assert (
        response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    )
    page = response.content.decode()
    token = ApiToken.objects.get(office=office)
    [secret] = [w for w in page.split('"') if w.startswith("esure_") and len(w) > 40]
    assert hashlib.sha256(secret.encode()).hexdigest() == token.digest
    again = admin_client.get(reverse("api:tokens")).content.decode()
    assert secret not in again
    assert "財務会計システム" in again and token.prefix in again and "未使用" in again


def test_the_list_shows_last_use_and_state(admin_client, office, guarantee):
    _record, secret = make_token(office, name="本番")
    api_client(secret).get(f"/api/v1/guarantees/{guarantee.number}")
    page = admin_client.get(reverse("api:tokens")).content.decode()
    assert timezone.localtime(timezone.now()).strftime("%Y/%m/%d %H:%M") in page
    assert "有効" in page


def test_the_form_keeps_input_and_says_what_is_wrong(admin_client):
    today = timezone.localdate().isoformat()
    response = admin_client.post(reverse("api:tokens"), {"name": "本番", "expires_on": today})
    assert response.status_code == 200
    page = response.content.decode()
    assert MSG_EXPIRES_PAST in page
    assert 'value="本番"' in page
    assert not ApiToken.objects.exists()
    missing = admin_client.post(reverse("api:tokens"), {"name": ""}).content.decode()
    assert "このフィールドは必須です。" in missing


def test_an_expiry_date_lasts_to_the_end_of_that_day(admin_client, office, frozen):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    admin_client.post(reverse("api:tokens"), {"name": "期限付き", "expires_on": tomorrow})
    token = ApiToken.objects.get()
    assert timezone.localtime(token.expires_at) == timezone.make_aware(
        datetime.datetime.combine(tomorrow + datetime.timedelta(days=1), datetime.time())
    )


def test_an_expiry_date_may_be_typed_in_wareki(admin_client, office, frozen):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    typed = f"R{tomorrow.year - 2018}.{tomorrow.month}.{tomorrow.day}"
    admin_client.post(reverse("api:tokens"), {"name": "期限付き", "expires_on": typed})
    assert timezone.localtime(ApiToken.objects.get().expires_at).date() == tomorrow + (
        datetime.timedelta(days=1)
    )


def test_revoking_from_the_page(admin_client, office):
    record, secret = make_token(office)
    response = admin_client.post(reverse("api:revoke", args=[record.pk]))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.revoked_at is not None
    assert api_client(secret).get("/api/v1/guarantees/08100000019").status_code == 401
    again = admin_client.post(reverse("api:revoke", args=[record.pk]), follow=True)
    assert "すでに失効" in again.content.decode()


def test_another_offices_token_is_404(admin_client):
    other = make_orderer("大分市").offices.first()
    record, _ = make_token(other)
    assert admin_client.post(reverse("api:revoke", args=[record.pk])).status_code == 404
    record.refresh_from_db()
    assert record.revoked_at is None


def test_revoke_is_post_only(admin_client, office):
    record, _ = make_token(office)
    assert admin_client.get(reverse("api:revoke", args=[record.pk])).status_code == 405


def test_an_office_user_without_the_permission_is_refused(office):
    browser = Client()
    browser.force_login(make_office_user(office))
    assert browser.get(reverse("api:tokens")).status_code == 403


def test_a_contractor_clerk_is_refused(clerk_client):
    assert clerk_client.get(reverse("api:tokens")).status_code == 403


def test_anonymous_is_sent_to_login(db):
    response = Client().get(reverse("api:tokens"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_staff_revoke_any_token_in_admin(client, staff, office):
    record, _secret = make_token(office)
    client.force_login(staff)
    response = client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [record.pk]},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.revoked_by == staff
    listing = client.get(reverse("admin:api_apitoken_changelist")).content.decode()
    assert record.digest not in listing


def test_staff_without_the_change_permission_cannot_revoke(client, office):
    from tests.conftest import make_staff

    record, _ = make_token(office)
    client.force_login(make_staff(perms=["api.view_apitoken"]))
    client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [record.pk]},
    )
    record.refresh_from_db()
    assert record.revoked_at is None
