"""D-Sure's 「電子証書の検証」 (decision 0016): anyone, without a key, uploads a PDF and reads the
verdict of certificates.verification.check_pdf, or opens a printout's QR code / types its
fingerprint and learns which version that is and how it stands today. Bad input of every
kind gets a plain answer, never a 500; every client is throttled on its own."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from certificates import pdf, services
from certificates.models import Document
from certificates.selectors import current_terms
from certificates.verification import MAX_BYTES, Outcome
from dsure import throttle
from dsure.forms import BAD_FINGERPRINT, NOT_A_PDF, TOO_LARGE
from dsure.views import CHECK_REFUSED, NO_SUCH_FINGERPRINT
from tests.conftest import WORK_DATES, make_concluded

pytestmark = pytest.mark.usefixtures("frozen")
CHECK = reverse("dsure:check")


@pytest.fixture
def guarantee(tsukumi):
    return make_concluded(**WORK_DATES)[0]


def stored_pdf(guarantee, version=1, kind=Document.Kind.CERTIFICATE):
    document = Document.objects.get(
        certificate__guarantee=guarantee, certificate__version=version, kind=kind
    )
    with document.file.open("rb") as f:
        return f.read()


def upload(data, name="certificate.pdf", client=None, **extra):
    client = client or Client()
    return client.post(CHECK, {"file": SimpleUploadedFile(name, data, "application/pdf")}, **extra)


def text(response):
    return response.content.decode()


def outcome(response):
    """The verdict's outcome as the page marks it (data-outcome), or None."""
    page = text(response)
    marker = 'data-outcome="'
    return page.split(marker, 1)[1].split('"', 1)[0] if marker in page else None


# --- the page -------------------------------------------------------------------------------


def test_anyone_opens_the_page_without_a_key(db):
    response = Client().get(CHECK)
    assert response.status_code == 200
    page = text(response)
    assert "電子証書の検証" in page
    assert "この画面で確かめること" in page  # it states what it checks
    assert response["Cache-Control"] == "no-store"
    assert outcome(response) is None


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_refused(db, method):
    assert getattr(Client(), method)(CHECK).status_code == 405
    fingerprint_url = reverse("dsure:check_fingerprint", args=["0" * 64])
    assert Client().post(fingerprint_url).status_code == 405


def test_a_stored_certificate_is_valid_first_version_and_in_force(guarantee):
    response = upload(stored_pdf(guarantee))
    assert response.status_code == 200
    assert outcome(response) == Outcome.VALID
    page = text(response)
    assert "有効な電子証書です" in page
    assert guarantee.number_display in page
    assert "第1版" in page
    assert '<span class="badge">有効</span>' in page
    assert "esure に保存された原本と一致します" in page
    assert "esure Test Time Stamping Authority" in page
    assert "あり（証明書の有効期限が過ぎても検証できます）" in page


def test_after_a_change_the_old_file_reads_superseded(guarantee):
    old = stored_pdf(guarantee)
    terms = current_terms(guarantee)
    services.issue_change(
        guarantee=guarantee, label="増額", fee={"amount": 1000}, amount=terms.amount + 1_000_000
    )
    page = text(upload(old))
    assert "変更前 — 最新は第2版" in page
    assert "有効な電子証書です" in page  # the file itself is intact; its version is old
    assert '<span class="badge">有効</span>' in text(upload(stored_pdf(guarantee, version=2)))


def test_a_modified_file_is_not_confirmed(guarantee):
    writer = IncrementalPdfFileWriter(io.BytesIO(stored_pdf(guarantee)))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    response = upload(out.getvalue())
    assert outcome(response) == Outcome.MODIFIED
    assert "確認できませんでした" in text(response)
    assert guarantee.number_display not in text(response)


def test_an_unsigned_legacy_original_is_labelled(settings, tsukumi):
    configured = settings.ESURE_SEAL_P12
    settings.ESURE_SEAL_P12 = ""
    guarantee = make_concluded(**WORK_DATES)[0]
    settings.ESURE_SEAL_P12 = configured
    response = upload(stored_pdf(guarantee))
    assert outcome(response) == Outcome.LEGACY
    assert "署名のない旧形式の電子証書です。D-Sure の原本と照合してください。" in text(response)


def test_a_file_that_is_not_a_pdf_gets_a_form_error(db):
    response = upload(b"GIF89a\x01\x00", name="photo.pdf")
    assert response.status_code == 200
    assert NOT_A_PDF in text(response)
    assert outcome(response) is None


def test_a_file_over_5_mb_is_refused(db):
    response = upload(b"%PDF-1.7\n" + b"0" * MAX_BYTES)
    assert response.status_code == 200
    assert TOO_LARGE in text(response)


def test_a_pdf_bomb_gets_a_plain_answer_quickly(db):
    bomb = b"%PDF-1.7\n" + b"".join(b"%d 0 obj\nnull\nendobj\n" % i for i in range(1, 20_002))
    response = upload(bomb)
    assert response.status_code == 200
    assert outcome(response) == Outcome.TOO_COMPLEX


def test_garbage_after_the_pdf_header_is_not_a_500(db):
    response = upload(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> trailer <<")
    assert response.status_code == 200
    assert outcome(response) == Outcome.NOT_PDF


# --- throttling -----------------------------------------------------------------------------


def test_each_client_is_throttled_on_its_own(db, settings, monkeypatch):
    settings.ESURE_TRUSTED_PROXY_COUNT = 1
    monkeypatch.setattr(throttle, "CHECK_LIMIT", 2)
    city = {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    for _ in range(2):
        assert upload(b"not a pdf", **city).status_code == 200
    refused = upload(b"not a pdf", **city)
    assert refused.status_code == 429
    assert CHECK_REFUSED in text(refused)
    # Another client (counted through esure.clientip) is not affected.
    assert upload(b"not a pdf", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 200
    # The QR lookups count too.
    url = reverse("dsure:check_fingerprint", args=["0" * 64])
    assert Client().get(url, **city).status_code == 429


# --- printouts: the QR code and the typed fingerprint ------------------------------------------


def test_the_qr_code_opens_the_verdict_for_that_version(guarantee, settings):
    certificate = guarantee.certificates.get()
    view = pdf.document_view(certificate.content, certificate.fingerprint)
    url = view["check_url"]
    assert url == f"{settings.ESURE_SITE_URL}/dsure/check/{certificate.fingerprint}/"
    assert view["check_qr_data_uri"] == pdf.qr_data_uri(url)
    response = Client().get(url.removeprefix(settings.ESURE_SITE_URL))
    assert response.status_code == 200
    page = text(response)
    assert guarantee.number_display in page and "第1版" in page
    assert '<span class="badge">有効</span>' in page
    assert outcome(response) == "found"


def test_a_typed_fingerprint_as_printed_goes_to_the_same_answer(guarantee):
    fingerprint = guarantee.certificates.get().fingerprint
    groups = " ".join(fingerprint[i : i + 8] for i in range(0, 64, 8))
    full_width = str.maketrans("0123456789ABCDEF", "０１２３４５６７８９ＡＢＣＤＥＦ")
    typed = groups.upper().translate(full_width)
    response = Client().get(CHECK, {"fingerprint": typed})
    assert response.status_code == 302
    assert response["Location"] == reverse("dsure:check_fingerprint", args=[fingerprint])


def test_a_malformed_fingerprint_keeps_the_input_and_says_why(db):
    response = Client().get(CHECK, {"fingerprint": "12345"})
    assert response.status_code == 200
    assert BAD_FINGERPRINT in text(response)
    assert 'value="12345"' in text(response)


def test_a_fingerprint_that_matches_no_version_says_so(db):
    response = Client().get(reverse("dsure:check_fingerprint", args=["a" * 64]))
    assert response.status_code == 404
    assert NO_SUCH_FINGERPRINT in text(response)
    # Not the shape of a fingerprint: the resolver answers 404 before any query.
    assert Client().get("/dsure/check/not-hex/").status_code == 404
    assert Client().get(f"/dsure/check/{'A' * 64}/").status_code == 404
