"""POST /guarantees/{number}/versions/{n}/receipt and /return: 受領 and 返戻 through the same
registry services as the office pages, attributed to the token; an Idempotency-Key makes a
repeat answer the first response without acting again (also when two arrive at once), the same
key with another request is refused, keys expire after ESURE_API_IDEMPOTENCY_HOURS."""

import datetime
import json

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from api import events, services
from api.models import IdempotencyKey, WebhookEvent
from api.problems import MSG_IDEMPOTENCY_KEY_REUSED, MSG_NOT_FOUND
from audit.models import AuditEvent
from certificates import services as registry
from certificates.models import Submission, SubmissionEvent
from tests.api.conftest import api_client, make_token
from tests.conftest import at_once, make_office_user

PROBLEM = "application/problem+json"


def url(guarantee, action, version=1, number=None):
    return f"/api/v1/guarantees/{number or guarantee.number}/versions/{version}/{action}"


def post(secret, address, body=None, key="key-1"):
    """POST `body` as JSON with the token and (unless None) the Idempotency-Key."""
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    return Client(headers=headers).post(
        address, json.dumps(body if body is not None else {}), content_type="application/json"
    )


def submission(guarantee, office):
    return Submission.objects.get(guarantee=guarantee, office=office)


def moves(guarantee):
    return SubmissionEvent.objects.filter(submission__guarantee=guarantee).exclude(old_status="")


def test_a_receipt_is_recorded_and_attributed_to_the_token(guarantee, office, token):
    record, secret = token
    response = post(secret, url(guarantee, "receipt"), {"note": "財務会計へ登録済"})
    assert response.status_code == 200
    body = json.loads(response.content)
    assert (body["number"], body["version"], body["status"]) == (guarantee.number, 1, "received")
    assert body["status_label"] == "受領" and body["note"] == "財務会計へ登録済"
    assert body["decided_at"] == "2026-11-30T01:00:00Z"  # NOW, as every API time is written
    answered = submission(guarantee, office)
    assert answered.status == Submission.Status.RECEIVED
    assert answered.decided_by is None  # no person: the office's system
    event = AuditEvent.objects.get(action="submission.received")
    assert event.actor == services.token_label(record) and event.actor_id is None
    assert str(record.pk) in event.actor and record.prefix in event.actor
    assert response.get("Idempotent-Replayed") is None


def test_a_return_needs_a_reason_and_mails_the_contractor(
    guarantee, office, token, clerk, django_capture_on_commit_callbacks
):
    _, secret = token
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(secret, url(guarantee, "return"), {"reason": "工事番号が契約書と異なる"})
    assert response.status_code == 200
    body = json.loads(response.content)
    assert (body["status"], body["status_label"]) == ("returned", "返戻")
    answered = submission(guarantee, office)
    assert (answered.status, answered.reason) == ("returned", "工事番号が契約書と異なる")
    [returned] = [m for m in mail.outbox if clerk.email in m.to]
    assert "工事番号が契約書と異なる" in returned.body


@pytest.mark.parametrize(
    ("reason", "status"), [("", 422), ("　 ", 422), ("理" * 1000, 200), ("理" * 1001, 422)]
)
def test_the_reason_is_required_and_at_most_1000_characters(guarantee, token, reason, status):
    _, secret = token
    response = post(secret, url(guarantee, "return"), {"reason": reason})
    assert response.status_code == status, response.content
    if status == 422:
        assert response["Content-Type"].startswith(PROBLEM)
        assert not moves(guarantee).exists()


def test_a_return_is_told_by_the_guarantee_returned_webhook(
    guarantee, office, token, office_admin, settings, monkeypatch
):
    settings.ESURE_WEBHOOK_ALLOW_LOOPBACK = True
    monkeypatch.setattr("api.webhooks.enqueue", lambda *args, **kwargs: None)  # not sent here
    services.create_endpoint(
        office=office,
        url="https://127.0.0.1:9/hook",
        events=["guarantee.returned"],
        by=office_admin,
    )
    events.collect()  # what came before
    _, secret = token
    assert post(secret, url(guarantee, "return"), {"reason": "金額の誤り"}).status_code == 200
    events.collect()
    event = WebhookEvent.objects.get(type="guarantee.returned")
    assert event.office_id == office.pk
    assert event.payload["data"]["number"] == guarantee.number
    assert event.payload["data"]["reason"] == "金額の誤り"
    assert event.payload["data"]["version"] == 1


def test_an_already_answered_version_is_a_409_problem(guarantee, office, token):
    _, secret = token
    registry.receive(
        certificate=guarantee.certificates.get(), office=office, by=make_office_user(office)
    )
    for action, body in (("receipt", {}), ("return", {"reason": "誤り"})):
        response = post(secret, url(guarantee, action), body, key=f"late-{action}")
        assert response.status_code == 409
        problem = json.loads(response.content)
        assert problem["detail"] == "この版はすでに受領しています。"
        assert problem["title"] == "リクエストが競合しています"


# --- Idempotency-Key -------------------------------------------------------------------------


def test_a_repeat_answers_the_stored_response_without_acting_again(guarantee, token):
    _, secret = token
    first = post(secret, url(guarantee, "receipt"), {"note": "x"}, key="order-42")
    # The number as printed names the same request.
    printed = url(guarantee, "receipt", number=guarantee.number_display)
    again = post(secret, printed, {"note": "x"}, key="order-42")
    assert (first.status_code, again.status_code) == (200, 200)
    assert json.loads(again.content) == json.loads(first.content)
    assert again["Idempotent-Replayed"] == "true"
    assert moves(guarantee).count() == 1
    assert AuditEvent.objects.filter(action="submission.received").count() == 1


def test_a_stored_409_is_answered_again_as_409(guarantee, token):
    _, secret = token
    assert post(secret, url(guarantee, "receipt"), key="a").status_code == 200
    assert post(secret, url(guarantee, "receipt"), key="b").status_code == 409
    again = post(secret, url(guarantee, "receipt"), key="b")
    assert again.status_code == 409 and again["Content-Type"].startswith(PROBLEM)


def test_the_same_key_with_another_request_is_refused(guarantee, token):
    _, secret = token
    assert post(secret, url(guarantee, "receipt"), {"note": "x"}, key="k").status_code == 200
    for address, body in (
        (url(guarantee, "receipt"), {"note": "y"}),
        (url(guarantee, "return"), {"reason": "誤り"}),
    ):
        response = post(secret, address, body, key="k")
        assert response.status_code == 422, address
        assert json.loads(response.content)["detail"] == MSG_IDEMPOTENCY_KEY_REUSED
    assert moves(guarantee).count() == 1


def test_the_tokens_of_one_office_share_its_keys(guarantee, office, token):
    """Keys are kept per office (two of its systems retrying one order act once)."""
    _, secret = token
    _, colleague = make_token(office, name="電子契約")  # the same office: the same keys
    assert post(secret, url(guarantee, "receipt"), key="shared").status_code == 200
    assert post(colleague, url(guarantee, "receipt"), key="shared")["Idempotent-Replayed"]
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.parametrize(
    ("key", "status"),
    [
        (None, 422),
        ("", 422),
        ("k" * 255, 200),
        ("k" * 256, 422),
        ("鍵", 422),
        ("a\tb", 422),
        (" ~!", 200),
    ],
)
def test_the_key_is_1_to_255_printable_ascii_characters(guarantee, token, key, status):
    _, secret = token
    response = post(secret, url(guarantee, "receipt"), key=key)
    assert response.status_code == status, response.content


@pytest.mark.parametrize(("hours", "replayed"), [(24, True), (24 + 1 / 3600, False)])
def test_a_key_expires_after_24_hours(guarantee, token, frozen, hours, replayed):
    _, secret = token
    assert post(secret, url(guarantee, "receipt"), key="daily").status_code == 200
    frozen.shift(datetime.timedelta(hours=hours))
    again = post(secret, url(guarantee, "receipt"), key="daily")
    if replayed:
        assert (again.status_code, again["Idempotent-Replayed"]) == (200, "true")
    else:  # a new request under an expired key: it acts (and meets the answered version)
        assert again.status_code == 409 and again.get("Idempotent-Replayed") is None
    assert IdempotencyKey.objects.count() == 1


def test_the_idempotency_window_is_a_setting(guarantee, token, frozen, settings):
    settings.ESURE_API_IDEMPOTENCY_HOURS = 1
    _, secret = token
    assert post(secret, url(guarantee, "receipt"), key="hourly").status_code == 200
    frozen.shift(datetime.timedelta(hours=1, seconds=1))
    assert post(secret, url(guarantee, "receipt"), key="hourly").status_code == 409


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real parallel transactions")
@pytest.mark.django_db(transaction=True)
def test_two_repeats_at_once_act_once(guarantee, token):
    _, secret = token
    call = lambda: post(secret, url(guarantee, "receipt"), {"note": "x"}, key="race")  # noqa: E731
    results = at_once(call, call)
    assert [kind for kind, _ in results] == ["ok", "ok"], results
    answers = [r for _, r in results]
    assert [a.status_code for a in answers] == [200, 200]
    assert json.loads(answers[0].content) == json.loads(answers[1].content)
    assert sorted(a.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
    assert moves(guarantee).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real parallel transactions")
@pytest.mark.django_db(transaction=True)
def test_two_different_keys_at_once_answer_once_and_409(guarantee, token):
    _, secret = token
    results = at_once(
        lambda: post(secret, url(guarantee, "receipt"), key="one"),
        lambda: post(secret, url(guarantee, "return"), {"reason": "誤り"}, key="two"),
    )
    assert sorted(r.status_code for _, r in results) == [200, 409], results
    assert moves(guarantee).count() == 1


# --- Access ----------------------------------------------------------------------------------


def test_another_offices_token_gets_404(guarantee, other_office_token):
    _, secret = other_office_token
    for action in ("receipt", "return"):
        response = post(secret, url(guarantee, action), {"reason": "x"})
        assert response.status_code == 404
        assert json.loads(response.content)["detail"] == MSG_NOT_FOUND
    assert not moves(guarantee).exists()


def test_a_missing_version_is_404(guarantee, token):
    _, secret = token
    assert post(secret, url(guarantee, "receipt", version=2)).status_code == 404


def test_without_a_token_it_is_401(guarantee):
    assert post(None, url(guarantee, "receipt")).status_code == 401


@pytest.mark.parametrize("action", ["receipt", "return"])
def test_a_wrong_method_is_a_405_problem(guarantee, token, action):
    _, secret = token
    response = api_client(secret).get(url(guarantee, action))
    assert response.status_code == 405
    assert response["Content-Type"].startswith(PROBLEM)


def test_send_webhooks_forgets_keys_older_than_the_window(guarantee, token, frozen):
    from django.core.management import call_command

    _, secret = token
    assert post(secret, url(guarantee, "receipt"), key="old").status_code == 200
    frozen.shift(datetime.timedelta(hours=24))
    call_command("send_webhooks")
    assert IdempotencyKey.objects.count() == 1  # 24 h old: still answered again
    frozen.shift(datetime.timedelta(seconds=1))
    call_command("send_webhooks")
    assert IdempotencyKey.objects.count() == 0
