"""`manage.py verify_storage` (certificates.integrity.verify_documents): every stored PDF is
in the storage and still hashes to the SHA-256 recorded at issuance — the check a restore
(docs/operations.md) and the weekly monitoring rely on, so it must also be able to fail."""

import io

import pytest
import time_machine
from django.core.management import call_command

from certificates.integrity import Report, verify_documents
from certificates.models import Document
from tests.conftest import NOW, WORK_DATES, make_concluded


@pytest.fixture
def documents(clerk, tsukumi):
    """One concluded 前払金保証: its three stored PDFs (保証証書, お客様控え, 保証料計算書)."""
    with time_machine.travel(NOW, tick=False):
        make_concluded(company=clerk.membership.company, copies=True, **WORK_DATES)
    return list(Document.objects.order_by("pk"))


def run(**kwargs):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_storage", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_intact_storage_passes_with_the_count_and_bytes(documents):
    report = verify_documents()
    assert (report.ok, report.failed) == (3, 0)
    assert report.bytes == sum(d.size for d in documents)
    code, out, err = run()
    assert code == 0 and err == ""
    assert out.strip() == f"documents OK: 3 ({report.bytes:,} bytes)"


def test_one_altered_byte_fails(documents, media):
    path = media / documents[0].file.name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))

    report = verify_documents()
    assert (report.ok, report.failed) == (2, 1)
    assert report.failures == [
        f"document {documents[0].pk} {documents[0].file.name}: "
        "SHA-256 differs from the recorded one"
    ]
    code, out, err = run()
    assert code == 1 and out == ""
    assert "SHA-256 differs" in err and "documents FAILED: 1 of 3" in err


def test_a_missing_file_fails(documents, media):
    (media / documents[1].file.name).unlink()
    report = verify_documents()
    assert report.failures == [f"document {documents[1].pk} {documents[1].file.name}: missing"]
    code, _, err = run()
    assert code == 1 and "documents FAILED: 1 of 3" in err


def test_an_empty_registry_passes_with_zero(db):
    assert run() == (0, "documents OK: 0 (0 bytes)\n", "")


def test_only_the_first_twenty_failures_are_listed_but_all_are_counted():
    report = Report()
    for n in range(25):
        report.fail(f"failure {n}")
    assert report.failed == 25 and len(report.failures) == 20 and not report.passed
