"""Stored documents in S3-compatible object storage (decision 0017), against a real SeaweedFS
(tests/seaweedfs.py): a conclusion writes its PDFs to the bucket, D-Sure and the contractor
are served exactly those bytes, objects are private and never overwritten, and
verify_storage and /readyz read the bucket."""

import hashlib
import io
import json
import urllib.error
import urllib.request

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from certificates import services as registry
from certificates.integrity import verify_documents
from certificates.models import Document
from tests.conftest import WORK_DATES, dsure_lookup, make_concluded
from tests.test_settings import SECRETS, run_python

pytestmark = pytest.mark.usefixtures("frozen")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def guarantee(s3, clerk, tsukumi):
    [guarantee] = make_concluded(company=clerk.membership.company, copies=True, **WORK_DATES)
    return guarantee


def documents_of(guarantee):
    return list(Document.objects.filter(certificate__guarantee=guarantee).order_by("pk"))


def test_the_default_storage_is_the_bucket(s3):
    assert default_storage.__class__.__name__ == "S3Storage"
    assert default_storage.bucket_name == s3.bucket


def test_a_conclusion_writes_its_pdfs_to_the_bucket(s3, guarantee):
    documents = documents_of(guarantee)
    assert len(documents) == 3  # 保証証書, お客様控え, 保証料計算書
    stored = s3.objects()
    assert sorted(stored) == sorted(d.file.name for d in documents)
    for document in documents:
        data = stored[document.file.name]
        assert sha256(data) == document.sha256
        assert len(data) == document.size
        assert data.startswith(b"%PDF")


def test_d_sure_serves_the_bytes_in_the_bucket_streamed(s3, guarantee, client):
    response = dsure_lookup(client, guarantee.number_display, registry.current_key(guarantee))
    assert response.status_code == 302
    response = client.get(reverse("dsure:document", args=[guarantee.number, 1]))
    assert response.status_code == 200
    assert response.streaming  # FileResponse over the storage's file, not bytes in memory
    served = b"".join(response.streaming_content)
    [certificate] = [d for d in documents_of(guarantee) if d.kind == Document.Kind.CERTIFICATE]
    assert sha256(served) == certificate.sha256 == sha256(s3.objects()[certificate.file.name])
    assert "no-store" in response["Cache-Control"]


@pytest.fixture
def s3_requests():
    """The S3 operations this test's storage sends, by name, in order."""
    sent = []

    def count(model, **kwargs):
        sent.append(model.name)

    client = default_storage.connection.meta.client
    client.meta.events.register("before-call.s3", count)
    yield sent
    client.meta.events.unregister("before-call.s3", count)


def test_a_download_is_one_get_streamed_with_its_length(s3, guarantee, client, s3_requests):
    """One GET per PDF served, read as it arrives: not django-storages' S3File (a HEAD when
    opened, then s3transfer's HEAD and GET, the whole object spooled first)."""
    dsure_lookup(client, guarantee.number_display, registry.current_key(guarantee))
    [certificate] = [d for d in documents_of(guarantee) if d.kind == Document.Kind.CERTIFICATE]
    s3_requests.clear()
    response = client.get(reverse("dsure:document", args=[guarantee.number, 1]))
    assert response.status_code == 200
    assert int(response["Content-Length"]) == certificate.size
    assert response["Content-Disposition"] == (
        f'inline; filename="{guarantee.number_display}-v1.pdf"'
    )
    assert sha256(b"".join(response.streaming_content)) == certificate.sha256
    response.close()
    assert s3_requests == ["GetObject"]


def test_a_stored_file_gone_from_the_bucket_is_file_not_found(s3, guarantee, s3_requests):
    document = documents_of(guarantee)[0]
    s3.delete(document.file.name)
    with pytest.raises(FileNotFoundError):
        default_storage.open(document.file.name)
    assert s3_requests == ["GetObject"]


def test_every_read_through_the_storage_api_is_one_get(s3, guarantee, s3_requests):
    """FieldFile.open and default_storage.open (verify_storage, the timestamp extension, the
    backups) read through esure.s3 alike: one GET, its size from the answer."""
    document = documents_of(guarantee)[0]
    with document.file.open("rb") as stored:
        assert sha256(stored.read()) == document.sha256
    with default_storage.open(document.file.name) as stored:
        assert stored.size == document.size
        assert sha256(stored.read(1024) + stored.read()) == document.sha256
    assert s3_requests == ["GetObject", "GetObject"]
    assert verify_documents().failed == 0
    assert s3_requests[2:] == ["GetObject"] * 3  # one per document


def test_the_contractor_is_served_the_same_bytes(s3, guarantee, clerk_client):
    [certificate] = [d for d in documents_of(guarantee) if d.kind == Document.Kind.CERTIFICATE]
    url = reverse("certs:document", args=[guarantee.number, 1, "certificate"])
    response = clerk_client.get(url)
    assert response.status_code == 200
    assert sha256(b"".join(response.streaming_content)) == certificate.sha256


def test_objects_are_private_no_unsigned_url_opens_them(s3, guarantee):
    name = documents_of(guarantee)[0].file.name
    unsigned = f"{s3.server.endpoint_url}/{s3.bucket}/{name}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=10)  # noqa: S310 — our own test server
    assert refused.value.code == 403


def test_a_stored_original_is_never_overwritten(s3, guarantee):
    """Storing under a name that exists gives a new object; the original keeps its bytes."""
    document = documents_of(guarantee)[0]
    before = s3.objects()[document.file.name]
    name = default_storage.save(document.file.name, ContentFile(b"%PDF- not the original"))
    assert name != document.file.name
    assert s3.objects()[document.file.name] == before
    assert verify_documents().failed == 0


def test_verify_storage_reads_the_bucket_and_finds_damage(s3, guarantee):
    documents = documents_of(guarantee)
    out = io.StringIO()
    call_command("verify_storage", stdout=out)
    assert out.getvalue().startswith("documents OK: 3 (")

    # Damage one object behind esure's back, remove another.
    altered, removed = documents[0].file.name, documents[1].file.name
    data = bytearray(s3.objects()[altered])
    data[len(data) // 2] ^= 1
    s3.put(altered, bytes(data))
    s3.delete(removed)

    report = verify_documents()
    assert (report.ok, report.failed) == (1, 2)
    assert any("SHA-256 differs" in line and altered in line for line in report.failures)
    assert any(line.endswith(f"{removed}: missing") for line in report.failures)


def test_readyz_checks_the_bucket(s3, client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["storage"] == "ok"
    assert not [name for name in s3.objects() if name.startswith("readyz/")]


def test_readyz_fails_when_the_store_is_unreachable(s3_unreachable, client, db):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "fail"


PRINT_STORAGE = (
    "import json, django; from django.conf import settings; "
    "o = settings.STORAGES['default'].get('OPTIONS', {}); "
    "print(json.dumps([settings.STORAGES['default']['BACKEND'], o.get('bucket_name'), "
    "o.get('endpoint_url'), o.get('file_overwrite'), o.get('querystring_auth')]))"
)


def test_without_a_bucket_documents_stay_on_the_local_disk():
    result = run_python(PRINT_STORAGE, **SECRETS)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "django.core.files.storage.FileSystemStorage",
        None,
        None,
        None,
        None,
    ]


def test_the_bucket_variable_is_the_one_switch():
    result = run_python(
        PRINT_STORAGE,
        ESURE_S3_BUCKET="esure-documents",
        ESURE_S3_ENDPOINT_URL="http://seaweedfs:8333",
        **SECRETS,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "esure.s3.S3Storage",  # django-storages' S3 backend, reading in one GET (0061)
        "esure-documents",
        "http://seaweedfs:8333",
        False,  # an original is never overwritten
        True,  # and never given a public URL
    ]
