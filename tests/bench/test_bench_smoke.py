"""The bench cannot rot: its data generator runs at a tiny scale (COPY into the test database)
and each benched request is made once through the test client, with the outcome the bench
expects (bench/README.md). Timing is never asserted here: `make bench` measures."""

import hashlib
import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from bench.generate import counts, generate, refresh_member_session
from certificates.keys import derive_key
from certificates.models import Certificate, Document, Guarantee
from certificates.numbering import damm_is_valid
from dsure.models import AccessLog
from dsure.services import MSG_NO_MATCH

LUA = Path(django_settings.BASE_DIR) / "bench" / "lua"


@pytest.fixture
def manifest(db):
    return generate(s=0.0001, out=io.StringIO())


def test_generator_fills_every_table_and_each_scenario_answers(manifest, settings):
    n = counts(0.0001)
    assert Guarantee.objects.count() == n["guarantees"]
    assert Certificate.objects.count() == n["guarantees"]
    assert Document.objects.count() == n["guarantees"]
    assert AccessLog.objects.count() == n["access_logs"]
    assert Guarantee.objects.filter(company_id=manifest["list_company_id"]).count() == 500
    number, key = manifest["right"][0]
    assert damm_is_valid(number) and key == derive_key(number, 1)
    # The shared PDF is on disk, and its hash is the one every Document row records.
    data = (Path(settings.MEDIA_ROOT) / manifest["shared_pdf"]["path"]).read_bytes()
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest() == manifest["shared_pdf"]["sha256"]
    # The generated content's fingerprint is the real one.
    from certificates.content import fingerprint

    certificate = Certificate.objects.get(guarantee__number=number)
    assert certificate.fingerprint == fingerprint(certificate.content)

    # Each scenario answers as the bench expects (one generator run serves both halves).
    anonymous = Client()
    assert anonymous.get("/healthz").status_code == 200

    number, key = manifest["right"][0]
    response = anonymous.post("/dsure/", {"number": number, "key": key})
    assert response.status_code == 302 and response["Location"] == f"/dsure/{number}/"
    assert anonymous.get(f"/dsure/{number}/").status_code == 200
    pdf = anonymous.get(f"/dsure/{number}/v1.pdf")
    assert pdf.status_code == 200
    assert (
        hashlib.sha256(b"".join(pdf.streaming_content)).hexdigest()
        == (manifest["shared_pdf"]["sha256"])
    )

    wrong = Client().post("/dsure/", {"number": manifest["wrong"][0], "key": "Z" * 16})
    assert wrong.status_code == 200 and MSG_NO_MATCH in wrong.content.decode()

    member = Client()
    member.cookies["sessionid"] = manifest["list_session_key"]
    certificates = member.get("/certificates/")
    assert certificates.status_code == 200
    applications = member.get("/applications/")
    assert applications.status_code == 200

    # The API's two benched calls: a right pair verified, the handed-over guarantee read.
    api = Client(headers={"Authorization": f"Bearer {manifest['api_token']}"})
    verified = api.post(
        "/api/v1/verify",
        {"number": manifest["right"][0][0], "key": manifest["right"][0][1]},
        content_type="application/json",
    )
    assert verified.status_code == 200
    assert api.get(f"/api/v1/guarantees/{manifest['viewer_number']}").status_code == 200


def test_the_wrk_scripts_are_there():
    for name in ("common.lua", "get.lua", "post_lookup.lua", "post_verify.lua"):
        assert (LUA / name).is_file()


@pytest.mark.django_db(transaction=True)  # the worker's loop closes its connection
def test_the_issuance_bench_concludes_and_times_bare_weasyprint(database_tasks, media):
    """bench/issuance.py's steps, two conclusions: each a real record_fee_receipt of a
    two-guarantee application (2 stored PDFs, 2 tasks for the other 4), the worker's loop that
    drains them, then bare WeasyPrint on the same HTML."""
    from bench import issuance

    issuance.make_world()
    pks = issuance.approved_applications(2, "T")

    issuance.CPU["conclusion"] = 0.0
    times = [issuance.conclude(pk) for pk in pks]
    assert Document.objects.count() == 4 and issuance.pending_documents() == 4
    assert issuance.drain() > 0
    # esure's CPU in each half (the test TSA's server thread, when it runs, counted apart)
    assert issuance.CPU["conclusion"] > 0 and issuance.CPU["drain"] > 0
    bare = issuance.bare_weasyprint(pks[:1])

    assert Guarantee.objects.count() == 4
    assert Document.objects.count() == 12 and issuance.pending_documents() == 0
    registry = issuance.check_registry()
    assert registry["gapless"] and registry["complete"], registry
    assert all(t > 0 for t in times) and len(bare) == 1 and bare[0] > 0
    assert issuance.summary(times)["n"] == 2
    # The signing cost: each of the first conclusion's 6 PDFs rendered, then signed.
    rendering, signing = issuance.signing_cost(pks[:1])
    assert len(rendering) == len(signing) == 6
    assert all(t > 0 for t in rendering + signing)


def test_a_reused_data_set_gets_a_new_member_session(manifest):
    """BENCH_REUSE=1 (bench/run.py reuse_database): the list member's session is made again,
    for the same user, and the lists answer with it; the manifest's other entries are kept."""
    fresh = refresh_member_session(manifest)
    assert fresh["list_session_key"] != manifest["list_session_key"]
    assert {k: v for k, v in fresh.items() if k != "list_session_key"} == {
        k: v for k, v in manifest.items() if k != "list_session_key"
    }
    member = Client()
    member.cookies["sessionid"] = fresh["list_session_key"]
    response = member.get("/certificates/")
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == manifest["list_user_id"]
    assert member.get("/applications/").status_code == 200
