"""`manage.py extend_timestamps` (certificates.services.extend_document): a document timestamp
(PAdES B-LTA) added to stored PDFs whose last timestamp nears its TSA certificate's end, as a
new record that extends the old one — the old bytes and hash stay (append-only), the new file
is served, and the check still reads it as the original, unchanged."""

import datetime
import hashlib
import io

import pytest
import time_machine
from django.core.management import call_command
from pyhanko.pdf_utils.reader import PdfFileReader

from certificates import selectors, services
from certificates.integrity import verify_documents
from certificates.models import Document
from certificates.verification import Outcome, check_pdf
from tests.conftest import JST, WORK_DATES, make_concluded

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def guarantee(tsukumi):
    return make_concluded(copies=True, **WORK_DATES)[0]


def read(document):
    with document.file.open("rb") as f:
        return f.read()


def test_nothing_is_due_while_the_tsa_certificate_has_years_left(guarantee, capsys):
    call_command("extend_timestamps")
    assert "extended: 0, due: 0, not due: 3" in capsys.readouterr().out
    assert Document.objects.count() == 3


def test_dry_run_lists_what_is_due_and_changes_nothing(guarantee, capsys):
    call_command("extend_timestamps", "--days", "100000", "--dry-run")
    out = capsys.readouterr().out
    assert out.count("due ") == 3 and "until 2050-01-01" in out
    assert Document.objects.count() == 3


def test_due_documents_get_a_document_timestamp_as_a_new_record(guarantee, capsys):
    originals = {d.kind: (d, read(d)) for d in Document.objects.all()}
    call_command("extend_timestamps", "--days", "100000")
    assert "extended: 3" in capsys.readouterr().out
    for kind, (old, old_bytes) in originals.items():
        new = Document.objects.get(extends=old)
        data = read(new)
        assert data.startswith(old_bytes)  # an incremental update: the old bytes are its prefix
        assert hashlib.sha256(data).hexdigest() == new.sha256 != old.sha256
        assert read(Document.objects.get(pk=old.pk)) == old_bytes  # the old file stays
        assert len(PdfFileReader(io.BytesIO(data)).embedded_timestamp_signatures) == 1
        verdict = check_pdf(data)
        assert verdict.outcome == Outcome.VALID, kind
        assert verdict.original and verdict.long_term
        assert check_pdf(old_bytes).original  # the old file still counts as an original
    assert verify_documents().passed
    # Each record is extended once: a second run extends the new ones, not the old.
    call_command("extend_timestamps", "--days", "100000")
    assert Document.objects.count() == 9
    assert Document.objects.filter(extends=None).count() == 3


def test_the_newest_record_of_each_kind_is_served(guarantee):
    call_command("extend_timestamps", "--days", "100000")
    for kind in Document.Kind.values:
        newest = Document.objects.get(extends__isnull=False, kind=kind)
        assert selectors.get_document(guarantee, 1, kind) == newest


def test_an_extension_is_refused_twice_and_for_damaged_bytes(guarantee):
    document = Document.objects.get(kind=Document.Kind.FEE_STATEMENT)
    services.extend_document(document=document)
    with pytest.raises(ValueError, match="already extended"):
        services.extend_document(document=document)
    newest = Document.objects.get(extends=document)
    newest.file.storage.delete(newest.file.name)
    newest.file.storage.save(newest.file.name, io.BytesIO(b"%PDF-1.7 damaged"))
    with pytest.raises(ValueError, match="differ from the recorded SHA-256"):
        services.extend_document(document=newest)


def test_unsigned_legacy_documents_are_left_alone(settings, tsukumi, capsys):
    configured = settings.ESURE_SEAL_P12
    settings.ESURE_SEAL_P12 = ""
    make_concluded(copies=True, **WORK_DATES)
    settings.ESURE_SEAL_P12 = configured
    call_command("extend_timestamps", "--days", "100000")
    assert "unsigned: 3" in capsys.readouterr().out
    assert Document.objects.count() == 3


def test_near_the_tsa_certificates_end_the_default_run_extends(guarantee, capsys):
    with time_machine.travel(datetime.datetime(2049, 3, 1, 10, tzinfo=JST), tick=False):
        call_command("extend_timestamps")
    assert "extended: 3" in capsys.readouterr().out
