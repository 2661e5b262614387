"""Webhooks, received by a real HTTP server on 127.0.0.1 that verifies each signature with
the standardwebhooks package: retries with back-off until a 2xx, one event and one
webhook-id however many attempts or resends, an endpoint failing for 3 days disabled with a
mail, and the SSRF guard."""

import datetime
import http.server
import json
import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from standardwebhooks import Webhook

from api import events, services, webhooks
from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from audit import services as audit
from certificates.services import record_completion
from tests.conftest import make_office_user, run_db_worker


class Receiver:
    """An HTTP server on 127.0.0.1 (a free port): answers `answers` in turn (then 200),
    verifying every request's signature; keeps what it received."""

    def __init__(self, answers=()):
        self.answers = list(answers)
        self.received = []  # (headers, payload, verified)
        self.secret = None
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                    verified = True
                except Exception:  # the test asserts `verified`
                    payload, verified = json.loads(body), False
                receiver.received.append((headers, payload, verified))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/esure-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback(settings):
    settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = True


@pytest.fixture
def receiver(loopback):
    server = Receiver()
    yield server
    server.close()


def endpoint_for(office, receiver, admin, types=tuple(webhooks.EVENT_TYPES)):
    created = services.create_endpoint(office=office, url=receiver.url, events=types, by=admin)
    receiver.secret = created.secret
    return created.endpoint


def emit(office, source="audit:1", type="guarantee.delivered"):
    return services.emit(
        office_id=office.pk, type=type, source=source, data={"number": "08100000019"}
    )


def test_500_twice_then_200_is_three_attempts_of_one_event(
    office, office_admin, receiver, django_capture_on_commit_callbacks
):
    receiver.answers = [500, 500]
    endpoint = endpoint_for(office, receiver, office_admin)
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(office)

    assert len(receiver.received) == 3
    assert all(verified for _, _, verified in receiver.received)
    ids = {headers["webhook-id"] for headers, _, _ in receiver.received}
    assert ids == {event.msg_id}
    assert receiver.received[0][1] == {
        "type": "guarantee.delivered",
        "timestamp": event.created_at.isoformat(),
        "data": {"number": "08100000019"},
    }
    [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    attempts = list(delivery.attempts.values_list("number", "response_status"))
    assert attempts == [(1, 500), (2, 500), (3, 200)]
    assert WebhookEvent.objects.count() == 1
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_resend_carries_the_same_webhook_id(
    office, office_admin, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(office, receiver, office_admin)
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(office)
    [delivery] = WebhookDelivery.objects.all()
    with django_capture_on_commit_callbacks(execute=True):
        services.resend(delivery=delivery, by=office_admin)
    assert [h["webhook-id"] for h, _, _ in receiver.received] == [event.msg_id] * 2
    assert WebhookDelivery.objects.count() == 2


def test_a_wrong_secret_does_not_verify(
    office, office_admin, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(office, receiver, office_admin)
    receiver.secret = "whsec_" + "A" * 43 + "="
    with django_capture_on_commit_callbacks(execute=True):
        emit(office)
    [(_, _, verified)] = receiver.received
    assert not verified


def test_emitting_twice_from_one_source_sends_once(
    office, office_admin, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(office, receiver, office_admin)
    with django_capture_on_commit_callbacks(execute=True):
        first = emit(office)
        second = emit(office)
    assert first.pk == second.pk
    assert len(receiver.received) == 1


def test_only_endpoints_that_chose_the_type_get_it(office, office_admin, receiver):
    endpoint_for(office, receiver, office_admin, types=["guarantee.cancelled"])
    assert emit(office, type="guarantee.delivered") is None
    assert emit(office, type="guarantee.cancelled") is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks")
class TestBackoffAndDisabling:
    """With the production task backend: attempts wait for their back-off; an endpoint
    failing for 3 days is disabled and its office mailed."""

    def test_failed_attempts_wait_for_the_backoff(self, office, office_admin, receiver, frozen):
        receiver.answers = [500] * 10
        endpoint_for(office, receiver, office_admin)
        emit(office)
        run_db_worker()
        assert len(receiver.received) == 1
        run_db_worker()  # not due yet
        assert len(receiver.received) == 1
        for wait in webhooks.BACKOFF[:3]:
            frozen.shift(wait)
            run_db_worker()
        assert len(receiver.received) == 4
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == WebhookDelivery.Status.PENDING
        assert delivery.next_attempt_at is not None

    def test_just_under_3_days_of_failure_keeps_trying(
        self, office, office_admin, receiver, frozen
    ):
        receiver.answers = [500] * 10
        endpoint = endpoint_for(office, receiver, office_admin)
        make_office_user(office, email="member@city.tsukumi.example.jp")
        now = datetime.datetime.now(datetime.UTC)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=now - webhooks.DISABLE_AFTER + datetime.timedelta(seconds=1)
        )
        emit(office)
        run_db_worker()
        endpoint.refresh_from_db()
        assert endpoint.active
        assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.PENDING

    def test_at_3_days_of_failure_the_endpoint_is_disabled_and_mailed(
        self, office, office_admin, receiver, frozen
    ):
        receiver.answers = [500] * 10
        endpoint = endpoint_for(office, receiver, office_admin)
        now = datetime.datetime.now(datetime.UTC)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=now - webhooks.DISABLE_AFTER
        )
        emit(office)
        emit(office, source="audit:2")
        run_db_worker()
        endpoint.refresh_from_db()
        assert not endpoint.active
        assert "3日間" in endpoint.disabled_reason
        statuses = set(WebhookDelivery.objects.values_list("status", flat=True))
        assert statuses == {WebhookDelivery.Status.FAILED}
        assert len(receiver.received) == 1  # the second delivery was not attempted
        assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()
        [message] = mail.outbox
        assert office_admin.email in message.to
        assert endpoint.url in message.body and "停止" in message.subject

    def test_the_guard_is_checked_again_at_send_time(
        self, office, office_admin, receiver, settings
    ):
        endpoint_for(office, receiver, office_admin)
        settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = False
        emit(office)
        run_db_worker()
        assert receiver.received == []
        [attempt] = WebhookAttempt.objects.all()
        assert (attempt.response_status, attempt.error) == (None, "UnsafeTarget")


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hook",
        "https://10.255.0.9:8443/hook",
        "https://127.0.0.1/hook",
        "https://127.8.9.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://192.168.1.1/hook",
        "https://localhost/hook",
    ],
)
def test_private_targets_are_refused_outside_the_test_setting(settings, url):
    settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(webhooks.UnsafeTarget) as refused:
        webhooks.check_target(url)
    assert str(refused.value) == webhooks.MSG_URL_PRIVATE


def test_plain_http_is_refused(settings):
    settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(webhooks.UnsafeTarget, match="https"):
        webhooks.check_target("http://8.8.8.8/hook")
    assert webhooks.check_target("https://8.8.8.8/hook")[3] == "8.8.8.8"


def test_the_test_setting_allows_loopback_only(settings):
    settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = True
    assert webhooks.check_target("http://127.0.0.1:9/hook")[3] == "127.0.0.1"
    assert webhooks.check_target("http://[::1]:9/hook")[3] == "::1"
    for url in ("https://10.0.0.1/hook", "https://169.254.169.254/", "http://203.0.113.10/"):
        with pytest.raises(webhooks.UnsafeTarget):
            webhooks.check_target(url)


def test_creating_an_endpoint_to_a_private_address_is_refused(office, office_admin, settings):
    settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ValidationError) as refused:
        services.create_endpoint(
            office=office,
            url="https://10.0.0.1/hook",
            events=["guarantee.delivered"],
            by=office_admin,
        )
    assert refused.value.message_dict["url"] == [webhooks.MSG_URL_PRIVATE]
    assert not WebhookEndpoint.objects.exists()


# --- Where events come from: the audit chain ---------------------------------------------


def test_changes_in_the_audit_chain_become_events_once(
    guarantee, office, office_admin, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(office, receiver, office_admin)
    events.collect()  # whatever was before
    with django_capture_on_commit_callbacks(execute=True):
        audit.record(actor=None, action="guarantee.changed", obj=guarantee, data={"version": 2})
        audit.record(actor=None, action="guarantee.cancelled", obj=guarantee, data={"version": 3})
        audit.record(actor=None, action="key.shown", obj=guarantee, data={})
        events.collect()
        events.collect()
    types = [payload["type"] for _, payload, _ in receiver.received]
    assert types == ["guarantee.version_added", "guarantee.cancelled"]
    data = receiver.received[0][1]["data"]
    assert data["number"] == guarantee.number and data["version"] == 2
    assert data["url"].endswith(f"/api/v1/guarantees/{guarantee.number}")


def test_a_completion_is_announced_with_its_day_and_ends_the_expiry_notices(
    guarantee, office, office_admin, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(office, receiver, office_admin)
    events.collect()
    with django_capture_on_commit_callbacks(execute=True):
        record_completion(
            guarantee=guarantee,
            completed_on=datetime.date(2026, 11, 30),
            by=office_admin,
            office=office,
        )
        events.collect()
    [(_, payload, _)] = receiver.received
    assert payload["type"] == "guarantee.completed"
    assert payload["data"]["completed_on"] == "2026-11-30"
    ends_on = guarantee.certificates.get().ends_on
    assert events.collect_expiring(today=ends_on - datetime.timedelta(days=5)) == []


def test_another_office_hears_nothing_of_our_guarantee(
    guarantee, receiver, office_admin, django_capture_on_commit_callbacks, tsukumi
):
    other = tsukumi.offices.exclude(pk=guarantee.submissions.get().office_id).get()
    endpoint_for(other, receiver, office_admin)
    events.collect()
    with django_capture_on_commit_callbacks(execute=True):
        audit.record(actor=None, action="guarantee.cancelled", obj=guarantee, data={})
        events.collect()
    assert receiver.received == []


@pytest.mark.parametrize(("days_left", "announced"), [(31, False), (30, True), (29, True)])
def test_expiring_is_announced_once_within_30_days(
    guarantee, office, office_admin, receiver, settings, days_left, announced
):
    settings.ESURE_WEBHOOK_EXPIRING_DAYS = 30
    endpoint_for(office, receiver, office_admin, types=["guarantee.expiring"])
    ends_on = guarantee.certificates.get().ends_on
    today = ends_on - datetime.timedelta(days=days_left)
    made = events.collect_expiring(today=today)
    again = events.collect_expiring(today=today)
    assert len(made) == (1 if announced else 0)
    assert WebhookEvent.objects.filter(type="guarantee.expiring").count() == len(made)
    assert len({e.pk for e in made + again}) == len(made)
