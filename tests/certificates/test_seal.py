"""The eシール (certificates.seal, decision 0012) and the one check (certificates.verification,
decision 0016), against the suite's real test PKI (tests/pki: CRL and RFC 3161 TSA over HTTP).

Every stored PDF is signed at issuance — PAdES (ETSI.CAdES.detached), certified with no
changes allowed, timestamped, validation data embedded (B-LT) — and the stored SHA-256 is
the signed file's. Then each way a file can fail the check fails it.
"""

import datetime
import hashlib
import io
import sys

import pyhanko.pdf_utils.metadata
import pytest
import time_machine
from django.core.management import call_command
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm

from certificates import pdf, seal, services
from certificates.models import Document
from certificates.selectors import current_terms
from certificates.verification import MAX_BYTES, Outcome, check_pdf
from tests.certificates.test_pdf_documents import pdf_text, squash
from tests.conftest import JST, NOW, WORK_DATES, make_concluded
from tests.pki import PASSPHRASE

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def guarantee(tsukumi):
    return make_concluded(copies=True, **WORK_DATES)[0]


def stored(guarantee, version=1):
    """{Document.Kind: (Document, bytes)} of one version, read through the storage API."""
    result = {}
    for document in Document.objects.filter(
        certificate__guarantee=guarantee, certificate__version=version
    ):
        with document.file.open("rb") as f:
            result[document.kind] = (document, f.read())
    return result


def signed_by(test_pki, label, data, *, timestamp=True):
    """`data` signed as esure signs, but with the test PKI's certificate `label`."""
    other = seal.Seal.load(
        test_pki.write_p12(label),
        passphrase=PASSPHRASE,
        tsa_url=test_pki.tsa_url if timestamp else "",
    )
    return other.sign(data)


# --- signing at issuance -----------------------------------------------------------------


def test_every_stored_pdf_is_signed_timestamped_and_valid(guarantee):
    documents = stored(guarantee)
    assert set(documents) == set(Document.Kind)
    for kind, (_, data) in documents.items():
        verdict = check_pdf(data)
        assert verdict.outcome == Outcome.VALID, (kind, verdict)
        assert verdict.signer == "西日本建設業保証株式会社"
        assert verdict.signer_is_seal
        assert verdict.timestamp_trusted
        assert verdict.timestamp_authority == "esure Test Time Stamping Authority"
        assert verdict.timestamp_at == NOW
        assert verdict.long_term  # the DSS holds certificates and CRLs: PAdES B-LT
        assert verdict.number == guarantee.number_display
        assert verdict.version == 1
        assert verdict.certificate.guarantee == guarantee
        assert verdict.original
        assert verdict.standing == "有効"


def test_a_pdf_signed_without_lxml_as_the_worker_signs_is_valid(guarantee, monkeypatch):
    # `manage.py worker` runs without lxml (decision 0049): pyHanko then writes no XMP, which
    # it writes only for a PDF with XMP or of PDF 2.0, and esure's PDFs are neither.
    certificate = guarantee.certificates.get(version=1)
    kind = Document.Kind.CUSTOMER_COPY
    unsigned = pdf.render_issuance_documents(certificate, kinds=[kind])[kind]
    assert b"/Metadata" not in unsigned
    with monkeypatch.context() as without:
        without.setitem(sys.modules, "lxml", None)
        without.delitem(sys.modules, "pyhanko.pdf_utils.metadata.xmp_xml", raising=False)
        without.delattr(pyhanko.pdf_utils.metadata, "xmp_xml", raising=False)
        signed = seal.sign_pdf(unsigned)
        assert "pyhanko.pdf_utils.metadata.xmp_xml" not in sys.modules  # it went without
    verdict = check_pdf(signed)
    assert verdict.outcome == Outcome.VALID, verdict
    assert verdict.signer_is_seal
    assert verdict.timestamp_trusted
    assert verdict.long_term
    assert b"/Metadata" not in signed


def test_the_stored_sha256_is_the_signed_files(guarantee):
    for document, data in stored(guarantee).values():
        assert data.startswith(b"%PDF-")
        assert hashlib.sha256(data).hexdigest() == document.sha256
        assert len(data) == document.size
        assert PdfFileReader(io.BytesIO(data)).embedded_signatures


def test_the_signature_is_a_pades_certification_that_allows_no_change(guarantee):
    for _, data in stored(guarantee).values():
        [signature] = PdfFileReader(io.BytesIO(data)).embedded_signatures
        assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
        assert signature.docmdp_level == MDPPerm.NO_CHANGES


def test_the_certificate_shows_a_visible_stamp_the_others_do_not(guarantee):
    documents = stored(guarantee)
    _, certificate = documents[Document.Kind.CERTIFICATE]
    text = squash(pdf_text(certificate))
    assert "電子署名（eシール）:西日本建設業保証株式会社" in text
    assert "署名日時:令和8年11月30日10時00分（日本時間）" in text
    [signature] = PdfFileReader(io.BytesIO(certificate)).embedded_signatures
    rect = [float(x) for x in signature.sig_field["/Rect"]]
    assert rect == pytest.approx(seal.STAMP_BOX, abs=0.01)
    for kind in (Document.Kind.CUSTOMER_COPY, Document.Kind.FEE_STATEMENT):
        _, data = documents[kind]
        assert "eシール" not in pdf_text(data)
        [signature] = PdfFileReader(io.BytesIO(data)).embedded_signatures
        assert [float(x) for x in signature.sig_field.get("/Rect", [0, 0, 0, 0])] == [0] * 4


def test_a_change_signs_the_new_versions_pdfs_and_the_old_one_reads_superseded(guarantee):
    terms = current_terms(guarantee)
    services.issue_change(
        guarantee=guarantee,
        label="増額",
        fee={"amount": 1000, "kind": "additional"},
        amount=terms.amount + 1_000_000,
    )
    for kind, (_, data) in stored(guarantee, version=2).items():
        verdict = check_pdf(data)
        assert verdict.outcome == Outcome.VALID, kind
        assert (verdict.version, verdict.standing) == (2, "有効")
    _, old = stored(guarantee, version=1)[Document.Kind.CERTIFICATE]
    assert check_pdf(old).standing == "変更前 — 最新は第2版"


def test_the_key_notice_is_signed_when_it_is_generated(guarantee):
    certificate = guarantee.certificates.get()
    data = pdf.render_key_notice(
        guarantee=guarantee,
        certificate=certificate,
        key=services.current_key(guarantee),
        orderer=guarantee.orderer,
        office=guarantee.office,
        channels=[],
        today=NOW.date(),
    )
    verdict = check_pdf(data)
    assert verdict.outcome == Outcome.VALID
    assert verdict.timestamp_trusted and verdict.long_term
    assert not verdict.original  # never stored: the registry holds no copy of the key


def test_without_a_seal_nothing_is_signed(settings):
    settings.ESURE_SEAL_P12 = ""
    assert seal.sign_pdf(b"%PDF-1.7 unsigned") == b"%PDF-1.7 unsigned"


def test_after_the_first_signature_each_is_made_once(guarantee, test_pki):
    """The first signature is sized by pyHanko's dry run; the next ones reuse its size (in
    hex digits, even) and are made once: one attempt, one TSA request each."""
    loaded = seal.Seal.load(
        test_pki.write_p12("seal"), passphrase=PASSPHRASE, tsa_url=test_pki.tsa_url
    )
    attempts = []
    sign_once = loaded._sign_once

    async def counted(data, *, stamp, reserved):
        attempts.append(reserved)
        return await sign_once(data, stamp=stamp, reserved=reserved)

    loaded._sign_once = counted
    data = pdf.render_pdf(
        "certificates/pdf/customer_copy.html", pdf.certificate_context(guarantee.certificates.get())
    )
    signed = [loaded.sign(data, stamp=stamp) for stamp in (True, False, True)]
    reserve = loaded._reserved
    assert attempts == [None, reserve, reserve]
    assert reserve % 2 == 0
    for output in signed:
        contents = PdfFileReader(io.BytesIO(output)).embedded_signatures[0].sig_object
        assert len(contents["/Contents"]) * 2 <= reserve
        assert check_pdf(output).outcome == Outcome.VALID


def test_the_seal_is_validated_once_per_signing_context(guarantee, test_pki, monkeypatch):
    """pyHanko's pre-signing validation (the seal's and the TSA's paths, their CRLs) runs once
    per signing context, not per document; a renewed context validates again. Every file
    signed with the kept validation is still a valid B-LT signature."""
    from pyhanko.sign.signers.pdf_signer import PdfSigningSession

    loaded = seal.Seal.load(
        test_pki.write_p12("seal"), passphrase=PASSPHRASE, tsa_url=test_pki.tsa_url
    )
    validations = []
    validate = PdfSigningSession.perform_presign_validation

    async def counted(self, *args, **kwargs):
        validations.append(self)
        return await validate(self, *args, **kwargs)

    monkeypatch.setattr(PdfSigningSession, "perform_presign_validation", counted)
    data = pdf.render_pdf(
        "certificates/pdf/customer_copy.html", pdf.certificate_context(guarantee.certificates.get())
    )
    signed = [loaded.sign(data, stamp=stamp) for stamp in (True, False, False)]
    assert len(validations) == 1
    loaded._context = (None, None)  # renewed, as every CONTEXT_RENEWED_EVERY seconds
    signed.append(loaded.sign(data))
    assert len(validations) == 2
    for output in signed:
        assert check_pdf(output).outcome == Outcome.VALID


# --- each way to fail --------------------------------------------------------------------


def test_one_changed_byte_breaks_the_signature(guarantee):
    _, data = stored(guarantee)[Document.Kind.CERTIFICATE]
    at = data.index(b"WeasyPrint 70")
    changed = data[:at] + b"weasyPrint 70" + data[at + 13 :]
    assert len(changed) == len(data)
    verdict = check_pdf(changed)
    assert verdict.outcome == Outcome.BROKEN
    assert not verdict.ok
    assert verdict.certificate is None  # a changed file names no registry version


def test_an_appended_update_is_reported_as_modified(guarantee):
    _, data = stored(guarantee)[Document.Kind.CERTIFICATE]
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    verdict = check_pdf(out.getvalue())
    assert verdict.outcome == Outcome.MODIFIED
    assert verdict.certificate is None


def test_a_pdf_signed_with_another_trusted_certificate_is_not_esures(guarantee, test_pki):
    rendered = pdf.render_issuance_documents(guarantee.certificates.get())
    other = signed_by(test_pki, "other", rendered[Document.Kind.CERTIFICATE])
    verdict = check_pdf(other)
    assert verdict.outcome == Outcome.NOT_ESURE
    assert verdict.signer == "他社建設株式会社"
    assert not verdict.signer_is_seal
    assert verdict.certificate is None  # it carries the number, but is not the registry's


def test_a_pdf_signed_under_another_root_is_untrusted(guarantee, test_pki):
    rendered = pdf.render_issuance_documents(guarantee.certificates.get())
    # Same holder name as esure's seal, another CA: the name alone proves nothing.
    # (No timestamp: the stranger's signing would not trust the suite's TSA.)
    stranger = signed_by(test_pki, "stranger", rendered[Document.Kind.CERTIFICATE], timestamp=False)
    verdict = check_pdf(stranger)
    assert verdict.outcome == Outcome.UNTRUSTED
    assert verdict.signer == "西日本建設業保証株式会社"
    assert not verdict.signer_is_seal


def test_a_revoked_seal_certificate_is_reported(guarantee, test_pki, frozen):
    rendered = pdf.render_issuance_documents(guarantee.certificates.get())
    # Signed on 2026-11-30 (valid then), revoked from 2026-12-01 (tests/pki/certomancer.yml).
    data = signed_by(test_pki, "seal-revoked", rendered[Document.Kind.CERTIFICATE])
    with time_machine.travel(datetime.datetime(2026, 12, 10, 10, tzinfo=JST), tick=False):
        verdict = check_pdf(data)
    assert verdict.outcome == Outcome.REVOKED
    assert verdict.revoked_at == datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


def test_an_unsigned_stored_original_is_labelled_legacy(settings, tsukumi):
    configured = settings.ESURE_SEAL_P12
    settings.ESURE_SEAL_P12 = ""  # issued before signing existed
    guarantee = make_concluded(**WORK_DATES)[0]
    settings.ESURE_SEAL_P12 = configured
    documents = stored(guarantee)
    _, data = documents[Document.Kind.CERTIFICATE]
    verdict = check_pdf(data)
    assert verdict.outcome == Outcome.LEGACY
    assert verdict.message == "署名のない旧形式の電子証書です。D-Sure の原本と照合してください。"
    assert (verdict.original, verdict.version, verdict.standing) == (True, 1, "有効")
    # One byte more, and it is no longer the original: just an unsigned PDF.
    verdict = check_pdf(data + b"\n")
    assert verdict.outcome == Outcome.UNSIGNED
    assert verdict.certificate is None


def test_not_a_pdf_oversized_and_unsigned_files_get_plain_answers():
    assert check_pdf(b"GIF89a not a pdf").outcome == Outcome.NOT_PDF
    assert check_pdf(b"%PDF-1.7\n garbage without structure").outcome == Outcome.NOT_PDF
    assert check_pdf(b"%PDF-1.7" + b" " * MAX_BYTES).outcome == Outcome.TOO_LARGE


def test_many_objects_are_refused_before_parsing():
    bomb = b"%PDF-1.7\n" + b"".join(b"%d 0 obj\nnull\nendobj\n" % i for i in range(1, 20_002))
    assert check_pdf(bomb).outcome == Outcome.TOO_COMPLEX


# --- configuration ---------------------------------------------------------------------------


def test_verify_pdf_prints_the_verdict_and_exits_1_on_failure(guarantee, tmp_path, capsys):
    _, data = stored(guarantee)[Document.Kind.CERTIFICATE]
    good = tmp_path / "good.pdf"
    good.write_bytes(data)
    call_command("verify_pdf", str(good))
    out = capsys.readouterr().out
    assert "OK valid" in out
    assert f"{guarantee.number_display} 第1版 — 有効" in out
    assert "esure Test Time Stamping Authority" in out
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"hello")
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_pdf", str(good), str(bad))
    assert exit_.value.code == 1
    assert "NG not_pdf" in capsys.readouterr().out
