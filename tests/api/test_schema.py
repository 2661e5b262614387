"""The OpenAPI 3.1 schema validates (openapi-spec-validator), and the docs page renders it
from esure itself: no CDN, no script, the strict CSP unchanged."""

import json

from openapi_spec_validator import validate

from tests.api.conftest import api_client


def test_the_schema_is_valid_openapi_3_1(db):
    response = api_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.1")
    validate(schema)
    paths = set(schema["paths"])
    assert {
        "/api/v1/verify",
        "/api/v1/guarantees",
        "/api/v1/guarantees/{number}",
        "/api/v1/guarantees/{number}/versions/{n}",
        "/api/v1/guarantees/{number}/versions/{n}.pdf",
    } <= paths


def test_errors_are_declared_as_problem_json(db):
    schema = json.loads(api_client().get("/api/v1/openapi.json").content)
    answer = schema["paths"]["/api/v1/verify"]["post"]["responses"]["429"]
    assert "application/problem+json" in answer["content"]
    assert "Retry-After" in answer["headers"]
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_a_replayed_answer_declares_its_header(db):
    schema = json.loads(api_client().get("/api/v1/openapi.json").content)
    for action in ("receipt", "return"):
        responses = schema["paths"][f"/api/v1/guarantees/{{number}}/versions/{{n}}/{action}"]
        responses = responses["post"]["responses"]
        for status in ("200", "409"):
            header = responses[status]["headers"]["Idempotent-Replayed"]
            assert header["schema"] == {"type": "string", "enum": ["true"]}, (action, status)
        assert (
            "content" in responses["200"]
            and "application/problem+json" in responses["409"]["content"]
        )


def test_a_list_item_says_whether_the_key_is_required(db):
    schema = json.loads(api_client().get("/api/v1/openapi.json").content)
    item = schema["components"]["schemas"]["GuaranteeListItem"]
    assert "key_required" in item["required"] and item["properties"]["key_required"]["type"] == (
        "boolean"
    )


def test_the_docs_page_is_served_locally_under_the_strict_csp(db):
    response = api_client().get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "POST /api/v1/verify" in page and "GuaranteeOut" in page
    assert "cdn" not in page.lower() and '<script src="http' not in page
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "http" not in csp
