"""POST /verify is D-Sure's lookup (dsure.services.find_guarantee) behind a token: the same
normalisation, the same uniform failure, the same throttling, and a limit per token."""

import datetime
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import limits, services
from api.models import ApiRequest
from certificates import services as registry
from certificates.numbering import format_number, make_number
from dsure import services as dsure
from dsure import throttle
from dsure.models import AccessLog
from esure.choices import GuaranteeKind
from tests.api.conftest import api_client
from tests.conftest import dsure_lookup

WRONG_KEY = "ABCD-EFGH-JKMN-PQRS"
UNKNOWN = format_number(make_number(8, GuaranteeKind.ADVANCE, 9_999_999))


def verify(secret, number, key, **extra):
    return api_client(secret, **extra).post(
        "/api/v1/verify",
        json.dumps({"number": number, "key": key}),
        content_type="application/json",
    )


def full_width(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_a_right_pair_answers_the_current_terms_and_versions(guarantee, token):
    _, secret = token
    key = registry.current_key(guarantee)
    response = verify(secret, guarantee.number_display, key)
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["number"] == guarantee.number
    assert body["status"] == "valid"
    assert [v["version"] for v in body["versions"]] == [1]
    # D-Sure logged the attempt as its own, with the client's address and never the key.
    row = AccessLog.objects.get(number=guarantee.number)
    assert (row.outcome, row.ip) == (AccessLog.Outcome.SUCCESS, "127.0.0.1")


def test_a_right_pair_takes_a_fixed_number_of_statements(guarantee, token):
    """The token, its verify limit, D-Sure's two (the number's lock with the throttle state;
    the log row), the versions with their guarantee and PDF hash joined, the API's log row."""
    _, secret = token
    key = registry.current_key(guarantee)
    verify(secret, guarantee.number_display, key)  # last_used_at stamped
    with CaptureQueriesContext(connection) as queries:
        response = verify(secret, guarantee.number_display, key)
    assert response.status_code == 200
    sent = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(sent) == 6, sent
    assert json.loads(response.content)["versions"][0]["pdf_sha256"]


def test_typed_as_city_staff_type_it(guarantee, token):
    _, secret = token
    key = registry.current_key(guarantee)
    typed_number = full_width(guarantee.number_display).replace("－", "ー")
    response = verify(secret, typed_number, " " + key.lower().replace("-", "－") + " ")
    assert response.status_code == 200


def test_unknown_number_wrong_key_and_old_key_get_one_answer(guarantee, token, staff):
    _, secret = token
    old_key = registry.current_key(guarantee)
    registry.reissue_key(guarantee=guarantee, by=staff, reason="誤送信")
    answers = [
        verify(secret, UNKNOWN, WRONG_KEY),
        verify(secret, guarantee.number_display, WRONG_KEY),
        verify(secret, guarantee.number_display, old_key),
    ]
    assert {a.status_code for a in answers} == {404}
    bodies = {a.content for a in answers}
    assert len(bodies) == 1
    assert json.loads(answers[0].content)["detail"] == dsure.MSG_NO_MATCH


def test_malformed_input_gets_the_typing_hint_uncounted(guarantee, token):
    _, secret = token
    bad_digit = guarantee.number[:-1] + str((int(guarantee.number[-1]) + 1) % 10)
    number_hint = verify(secret, bad_digit, WRONG_KEY)
    key_hint = verify(secret, guarantee.number, "ABCD")
    assert (number_hint.status_code, key_hint.status_code) == (422, 422)
    assert json.loads(number_hint.content)["detail"] == dsure.MSG_NUMBER_FORMAT
    assert json.loads(key_hint.content)["detail"] == dsure.MSG_KEY_FORMAT
    assert not AccessLog.objects.exists()


def test_a_body_that_is_not_the_schema_is_422(token):
    _, secret = token
    client = api_client(secret)
    for body in ("{}", '{"number": 1}', "not json", json.dumps({"number": "1" * 65, "key": "x"})):
        response = client.post("/api/v1/verify", body, content_type="application/json")
        assert response.status_code in (400, 422), body
        assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "case", ["right", "wrong key", "unknown", "check digit", "short key", "full width"]
)
def test_verify_answers_as_dsures_lookup_over_the_same_input(guarantee, token, case):
    """One access path: for each input, the API's answer says what D-Sure's page says."""
    _, secret = token
    key = registry.current_key(guarantee)
    number = guarantee.number_display
    typed = {
        "right": (number, key),
        "wrong key": (number, WRONG_KEY),
        "unknown": (UNKNOWN, WRONG_KEY),
        "check digit": (number[:-1] + str((int(number[-1]) + 1) % 10), WRONG_KEY),
        "short key": (number, "ABCD-EFGH"),
        "full width": (full_width(number), full_width(key)),
    }[case]
    page = dsure_lookup(Client(), *typed)
    answer = verify(secret, *typed)
    if page.status_code == 302:  # D-Sure opened the viewer
        assert answer.status_code == 200
        assert json.loads(answer.content)["number"] in page["Location"]
    else:
        detail = json.loads(answer.content)["detail"]
        assert answer.status_code in (404, 422)
        assert detail in page.content.decode()


def test_dsures_delay_answers_429_with_retry_after(guarantee, token):
    _, secret = token
    for _ in range(throttle.DELAY_AFTER):
        assert verify(secret, guarantee.number, WRONG_KEY).status_code == 404
    refused = verify(secret, guarantee.number, registry.current_key(guarantee))
    assert refused.status_code == 429
    assert json.loads(refused.content)["detail"] == dsure.MSG_WAIT
    assert 1 <= int(refused["Retry-After"]) <= 2


def test_a_locked_number_answers_429_until_the_lock_ends(guarantee, token):
    _, secret = token
    now = timezone.now()
    throttle.NumberLock.objects.create(
        number=guarantee.number, at=now, until=now + datetime.timedelta(hours=24)
    )
    refused = verify(secret, guarantee.number, registry.current_key(guarantee))
    assert refused.status_code == 429
    assert json.loads(refused.content)["detail"] == dsure.MSG_LOCKED
    assert int(refused["Retry-After"]) == 24 * 3600 + 1


def _failures(record, count, ip="127.0.0.1"):
    for _ in range(count):
        services.log_request(token=record, ip=ip, method="POST", operation="verify", status=404)


def test_per_token_limit_just_under_at_and_after_the_window(guarantee, token, frozen):
    record, secret = token
    key = registry.current_key(guarantee)
    _failures(record, limits.TOKEN_VERIFY_FAILURES - 1)
    assert verify(secret, guarantee.number, key).status_code == 200  # just under
    _failures(record, 1)
    refused = verify(secret, guarantee.number, key)  # at the limit
    assert refused.status_code == 429
    assert json.loads(refused.content)["detail"] == limits_message()
    assert int(refused["Retry-After"]) == int(throttle.IP_WINDOW.total_seconds()) + 1
    frozen.shift(throttle.IP_WINDOW)  # the window has passed
    assert verify(secret, guarantee.number, key).status_code == 200


def test_the_token_limit_counts_only_that_tokens_failures(guarantee, token, office):
    from tests.api.conftest import make_token

    record, _ = token
    _failures(record, limits.TOKEN_VERIFY_FAILURES)
    _, other_secret = make_token(office)
    key = registry.current_key(guarantee)
    assert verify(other_secret, guarantee.number, key).status_code == 200


def test_each_failed_verify_is_counted_to_its_token(guarantee, token):
    record, secret = token
    verify(secret, guarantee.number, WRONG_KEY)
    row = ApiRequest.objects.get(token=record)
    assert (row.operation, row.status, row.number) == ("verify", 404, guarantee.number)


def limits_message():
    from api.problems import MSG_TOO_MANY_VERIFY

    return MSG_TOO_MANY_VERIFY
