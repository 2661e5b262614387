"""Every endpoint: no token, a revoked token, an expired token, a made-up token → 401; another
office's guarantee → 404 (never 403); a wrong method → 405; all as problem+json in Japanese."""

import datetime
import json

import pytest
from django.utils import timezone

from api import limits, services
from api.models import ApiRequest
from api.problems import MSG_NOT_FOUND, MSG_UNAUTHORIZED
from tests.api.conftest import api_client, make_token

PROBLEM = "application/problem+json"


def endpoints(guarantee):
    n = guarantee.number
    return [
        ("post", "/api/v1/verify", {"number": n, "key": "ABCD-EFGH-JKMN-PQRS"}),
        ("get", f"/api/v1/guarantees/{n}", None),
        ("get", f"/api/v1/guarantees/{n}/versions/1", None),
        ("get", f"/api/v1/guarantees/{n}/versions/1.pdf", None),
    ]


def call(client, method, url, body):
    if method == "post":
        return client.post(url, json.dumps(body), content_type="application/json")
    return client.get(url)


def problem(response):
    assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
    body = json.loads(response.content)
    assert body["status"] == response.status_code
    assert body["title"] and body["detail"]
    return body


def test_without_a_token_every_endpoint_answers_401(guarantee):
    for method, url, body in endpoints(guarantee):
        response = call(api_client(), method, url, body)
        assert response.status_code == 401, url
        assert problem(response)["detail"] == MSG_UNAUTHORIZED
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_answers_401(guarantee, office, token, office_admin):
    record, secret = token
    assert call(api_client(secret), *endpoints(guarantee)[1]).status_code == 200
    services.revoke_token(token=record, by=office_admin)
    for method, url, body in endpoints(guarantee):
        response = call(api_client(secret), method, url, body)
        assert response.status_code == 401, url
        problem(response)


def test_an_expired_token_answers_401_from_its_expiry_on(guarantee, office, frozen):
    expires = timezone.now() + datetime.timedelta(hours=1)
    _, secret = make_token(office, expires_at=expires)
    frozen.move_to(expires - datetime.timedelta(seconds=1))
    assert call(api_client(secret), *endpoints(guarantee)[1]).status_code == 200
    frozen.move_to(expires)
    for method, url, body in endpoints(guarantee):
        assert call(api_client(secret), method, url, body).status_code == 401, url


def test_a_made_up_or_malformed_token_answers_401(guarantee, token):
    _, secret = token
    for made_up in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), "esure_x", "nonsense"):
        response = call(api_client(made_up), *endpoints(guarantee)[1])
        assert response.status_code == 401
        problem(response)


def test_another_offices_token_gets_404_for_our_guarantee(guarantee, other_office_token):
    _, secret = other_office_token
    for method, url, body in endpoints(guarantee)[1:]:
        response = call(api_client(secret), method, url, body)
        assert response.status_code == 404, url
        assert problem(response)["detail"] == MSG_NOT_FOUND


def test_the_same_orderers_other_office_gets_404(guarantee, tsukumi):
    other = tsukumi.offices.exclude(name="土木課 工事担当").get()
    _, secret = make_token(other)
    response = api_client(secret).get(f"/api/v1/guarantees/{guarantee.number}")
    assert response.status_code == 404


def test_wrong_methods_answer_405_with_allow(guarantee, token):
    _, secret = token
    client = api_client(secret)
    n = guarantee.number
    cases = [
        ("get", "/api/v1/verify"),
        ("delete", f"/api/v1/guarantees/{n}"),
        ("post", f"/api/v1/guarantees/{n}/versions/1"),
        ("put", f"/api/v1/guarantees/{n}/versions/1.pdf"),
    ]
    for method, url in cases:
        response = getattr(client, method)(url)
        assert response.status_code == 405, url
        problem(response)
        assert response["Allow"]


def test_an_unknown_api_url_is_a_problem_404(token):
    _, secret = token
    response = api_client(secret).get("/api/v1/no-such-thing")
    assert response.status_code == 404
    problem(response)


def test_made_up_tokens_from_one_address_are_throttled_with_retry_after(guarantee, token):
    _, secret = token
    url = f"/api/v1/guarantees/{guarantee.number}"
    client = api_client("esure_made-up", REMOTE_ADDR="203.0.113.9")
    for _ in range(limits.AUTH_FAILURES_PER_WINDOW - 1):
        assert client.get(url).status_code == 401
    assert client.get(url).status_code == 401  # the last one counted
    refused = client.get(url)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= limits.AUTH_WINDOW_SECONDS
    problem(refused)
    # A valid token from the same address (a city's shared one) still works; another
    # address is not held back either.
    assert api_client(secret, REMOTE_ADDR="203.0.113.9").get(url).status_code == 200
    assert api_client("esure_other", REMOTE_ADDR="198.51.100.7").get(url).status_code == 401


def test_every_call_with_a_token_is_logged_to_it_never_the_token(guarantee, token):
    record, secret = token
    api_client(secret).get(f"/api/v1/guarantees/{guarantee.number}")
    api_client(secret).get(f"/api/v1/guarantees/{guarantee.number}/versions/9")
    rows = list(ApiRequest.objects.filter(token=record).order_by("pk"))
    assert [(r.operation, r.number, r.status) for r in rows] == [
        ("guarantee", guarantee.number, 200),
        ("version", guarantee.number, 404),
    ]
    record.refresh_from_db()
    assert record.last_used_at is not None
    assert not any(secret in str(v) for r in rows for v in vars(r).values())


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/docs"])
def test_schema_and_docs_need_no_token(db, path):
    assert api_client().get(path).status_code == 200


def test_a_nul_in_the_query_is_a_400_problem(token):
    """esure.middleware refuses a NUL before any view; under /api/v1/ the answer is a
    problem document like every other error (and never cached)."""
    from esure.middleware import MSG_NUL

    _, secret = token
    response = api_client(secret).get("/api/v1/guarantees", {"cursor": "a\x00b"})
    assert response.status_code == 400
    assert problem(response)["detail"] == MSG_NUL
    assert response["Cache-Control"] == "no-store"
