"""The office 管理者's webhook pages: register an endpoint (secret shown once, the SSRF
guard's answer next to the URL), read each delivery's attempts, resend, stop and restart."""

import pytest
from django.test import Client
from django.urls import reverse
from standardwebhooks import Webhook

from api import services, webhooks
from api.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import make_office_user, make_orderer


@pytest.fixture
def admin_client(office_admin):
    browser = Client()
    browser.force_login(office_admin)
    return browser


@pytest.fixture
def endpoint(office, office_admin, settings):
    settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = True
    return services.create_endpoint(
        office=office,
        url="http://127.0.0.1:9/hook",
        events=["guarantee.delivered"],
        by=office_admin,
    ).endpoint


def test_registering_shows_the_secret_once(admin_client, office, settings):
    settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = True
    response = admin_client.post(
        reverse("api:webhooks"),
        {"url": "http://127.0.0.1:9/hook", "events": ["guarantee.delivered", "guarantee.returned"]},
    )
    assert response.status_code == 200
    page = response.content.decode()
    endpoint = WebhookEndpoint.objects.get(office=office)
    secret = webhooks.secret_of(endpoint)
    assert secret in page
    assert endpoint.events == ["guarantee.delivered", "guarantee.returned"]
    Webhook(secret)  # a valid Standard Webhooks secret
    assert secret not in admin_client.get(reverse("api:webhooks")).content.decode()
    assert secret not in str(list(WebhookEndpoint.objects.values()))


def test_a_private_url_is_refused_next_to_the_field_keeping_input(admin_client, settings):
    settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = False
    response = admin_client.post(
        reverse("api:webhooks"),
        {"url": "https://169.254.169.254/latest", "events": ["guarantee.delivered"]},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert webhooks.MSG_URL_PRIVATE in page
    assert "https://169.254.169.254/latest" in page
    assert not WebhookEndpoint.objects.exists()


def test_no_event_chosen_is_refused(admin_client, settings):
    settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = True
    response = admin_client.post(reverse("api:webhooks"), {"url": "http://127.0.0.1:9/"})
    assert "送信するイベントを1つ以上選んでください。" in response.content.decode()


def test_the_endpoint_page_lists_deliveries_and_attempts(admin_client, endpoint, office):
    event = services.emit(
        office_id=office.pk, type="guarantee.delivered", source="t:1", data={"number": "x"}
    )
    delivery = WebhookDelivery.objects.get()
    services.attempt_delivery(delivery_id=delivery.pk, attempt=1)  # nothing listens on :9
    page = admin_client.get(reverse("api:webhook", args=[endpoint.pk])).content.decode()
    assert event.msg_id in page
    assert "応答なし" in page


def test_resend_and_toggle(admin_client, endpoint, office):
    services.emit(office_id=office.pk, type="guarantee.delivered", source="t:1", data={})
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.FAILED)
    url = reverse("api:webhook_resend", args=[endpoint.pk, delivery.pk])
    assert admin_client.get(url).status_code == 405
    assert admin_client.post(url).status_code == 302
    assert WebhookDelivery.objects.filter(event=delivery.event).count() == 2
    toggle = reverse("api:webhook_toggle", args=[endpoint.pk])
    admin_client.post(toggle)
    endpoint.refresh_from_db()
    assert not endpoint.active
    refused = admin_client.post(url, follow=True).content.decode()
    assert "停止中" in refused
    admin_client.post(toggle)
    endpoint.refresh_from_db()
    assert endpoint.active


def test_another_offices_endpoint_is_404(admin_client, office_admin, settings):
    settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = True
    other = make_orderer("大分市").offices.first()
    theirs = services.create_endpoint(
        office=other, url="http://127.0.0.1:9/", events=["guarantee.delivered"], by=office_admin
    ).endpoint
    assert admin_client.get(reverse("api:webhook", args=[theirs.pk])).status_code == 404
    assert admin_client.post(reverse("api:webhook_toggle", args=[theirs.pk])).status_code == 404


def test_office_users_without_the_permission_and_anonymous(office, endpoint):
    browser = Client()
    browser.force_login(make_office_user(office))
    assert browser.get(reverse("api:webhooks")).status_code == 403
    anonymous = Client().get(reverse("api:webhook", args=[endpoint.pk]))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
