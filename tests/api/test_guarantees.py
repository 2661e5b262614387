"""GET /guarantees/{number}, its versions and PDFs: the terms as typed fields, the canonical
JSON that the fingerprint covers (a client can recompute it), the stored PDF's bytes."""

import datetime
import hashlib
import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from certificates.models import Document
from tests.api.conftest import api_client


def get(secret, url):
    response = api_client(secret).get(url)
    return response, (
        json.loads(response.content)
        if response["Content-Type"].startswith(("application/json", "application/problem+json"))
        else None
    )


def test_a_delivered_guarantee_reads_as_typed_terms(guarantee, token):
    _, secret = token
    response, body = get(secret, f"/api/v1/guarantees/{guarantee.number}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    current = guarantee.certificates.get(version=1)
    assert body["number"] == guarantee.number
    assert body["number_display"] == guarantee.number_display
    assert (body["kind"], body["kind_label"]) == ("advance", "前払金保証")
    assert (body["status"], body["status_label"]) == ("valid", "有効")
    assert body["amount"] == current.amount and isinstance(body["amount"], int)
    assert body["ends_on"] == {"iso": "2027-03-19", "wareki": "令和9年3月19日"}
    assert body["work"]["contract_date"] == {"iso": "2026-11-20", "wareki": "令和8年11月20日"}
    assert isinstance(body["work"]["price"], int)
    assert body["orderer"]["name"] == "津久見市"
    assert "津久見市".encode() in response.content  # UTF-8 as written, not \\u escapes
    assert body["current_version"] == 1
    [v1] = body["versions"]
    assert v1["fingerprint"] == current.fingerprint
    assert v1["pdf_sha256"] == current.documents.get(kind=Document.Kind.CERTIFICATE).sha256


def test_a_completed_guarantee_reads_completed_with_its_day(guarantee, token, office):
    from certificates.services import record_completion
    from tests.conftest import make_staff

    record_completion(
        guarantee=guarantee, completed_on=datetime.date(2026, 11, 30), by=make_staff()
    )
    _, secret = token
    _, body = get(secret, f"/api/v1/guarantees/{guarantee.number}")
    assert (body["status"], body["status_label"]) == ("completed", "完了")
    assert body["completed_on"] == {"iso": "2026-11-30", "wareki": "令和8年11月30日"}


def test_the_number_may_be_typed_as_printed(guarantee, token):
    _, secret = token
    response, _ = get(secret, f"/api/v1/guarantees/{guarantee.number_display}")
    assert response.status_code == 200


def test_a_version_carries_the_canonical_json_its_fingerprint_covers(guarantee, token):
    _, secret = token
    response, body = get(secret, f"/api/v1/guarantees/{guarantee.number}/versions/1")
    assert response.status_code == 200
    digest = hashlib.sha256(body["canonical_json"].encode("utf-8")).hexdigest()
    assert digest == body["fingerprint"] == guarantee.certificates.get(version=1).fingerprint
    # The same from the content object, re-serialised the documented way.
    again = json.dumps(body["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(again.encode()).hexdigest() == body["fingerprint"]


def test_the_pdf_is_the_stored_bytes(guarantee, token):
    _, secret = token
    response = api_client(secret).get(f"/api/v1/guarantees/{guarantee.number}/versions/1.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content)
    assert data.startswith(b"%PDF")
    stored = guarantee.certificates.get(version=1).documents.get(kind=Document.Kind.CERTIFICATE)
    assert hashlib.sha256(data).hexdigest() == stored.sha256


def test_a_missing_version_or_number_is_404(guarantee, token):
    _, secret = token
    for url in (
        f"/api/v1/guarantees/{guarantee.number}/versions/2",
        f"/api/v1/guarantees/{guarantee.number}/versions/2.pdf",
        "/api/v1/guarantees/08100000000",
        f"/api/v1/guarantees/{guarantee.number}/versions/{10**19}",
        f"/api/v1/guarantees/{guarantee.number}/versions/{10**19}.pdf",
        f"/api/v1/guarantees/{guarantee.number}/versions/{'9' * 5000}.pdf",
        "/api/v1/guarantees/%00",
        "/api/v1/guarantees/not-a-number",
    ):
        assert api_client(secret).get(url).status_code == 404, url


def test_reading_a_guarantee_takes_a_fixed_number_of_queries(guarantee, token):
    _, secret = token
    client = api_client(secret)
    client.get(f"/api/v1/guarantees/{guarantee.number}")  # last_used_at stamped
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/v1/guarantees/{guarantee.number}").status_code == 200
    assert len(queries) <= 5, [q["sql"] for q in queries]
