"""The eシール's configuration: the system checks (certificates.checks) and the demo seal of
`make run` (manage.py make_demo_seal)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certificates import checks, pdf, seal
from certificates.models import Document
from certificates.verification import Outcome, check_pdf
from tests.certificates.test_pdf_documents import unsaved_certificate


def ids(messages):
    return [message.id for message in messages]


def test_the_suites_seal_passes_the_checks():
    assert checks.seal_configured() == []
    assert checks.timestamp_service() == []


def test_production_without_a_seal_is_an_error(settings):
    settings.DEBUG = False
    settings.ESURE_HTTPS = True
    settings.ESURE_SEAL_P12 = ""
    assert ids(checks.seal_configured()) == ["certificates.E001"]
    assert checks.timestamp_service() == []  # said once


def test_without_a_seal_outside_production_it_is_a_warning_but_check_deploy_errs(settings):
    settings.ESURE_SEAL_P12 = ""
    settings.ESURE_HTTPS = False
    for debug in (True, False):  # the demo; a developer's shell (makemigrations)
        settings.DEBUG = debug
        assert ids(checks.seal_configured()) == ["certificates.W001"]
    settings.DEBUG = False
    assert ids(checks.timestamp_service()) == ["certificates.E001"]
    settings.DEBUG = True
    assert checks.timestamp_service() == []


def test_a_wrong_passphrase_or_a_missing_file_is_an_error(settings, tmp_path):
    settings.ESURE_SEAL_PASSPHRASE = "not-the-passphrase"
    [error] = checks.seal_configured()
    assert error.id == "certificates.E002"
    assert "not-the-passphrase" not in error.msg  # the passphrase is never printed
    settings.ESURE_SEAL_P12 = str(tmp_path / "missing.p12")
    assert ids(checks.seal_configured()) == ["certificates.E002"]


def test_a_seal_file_others_can_read_is_a_warning(settings, tmp_path, test_pki):
    copy = tmp_path / "seal.p12"
    copy.write_bytes(test_pki.write_p12("seal").read_bytes())
    copy.chmod(0o644)
    settings.ESURE_SEAL_P12 = str(copy)
    assert ids(checks.seal_configured()) == ["certificates.W002"]
    copy.chmod(0o600)
    assert checks.seal_configured() == []


def test_no_timestamp_service_is_a_deploy_warning(settings):
    settings.ESURE_TSA_URL = ""
    assert ids(checks.timestamp_service()) == ["certificates.W003"]


# --- make_demo_seal ---------------------------------------------------------------------------


def test_make_demo_seal_refuses_outside_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="local demo only"):
        call_command("make_demo_seal")


def test_make_demo_seal_writes_a_seal_that_signs_and_verifies(settings, tmp_path, db):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\n")
    settings.DEBUG = True
    settings.ENV_FILE = str(env_file)
    settings.VAR_DIR = tmp_path
    settings.ESURE_SEAL_P12 = ""
    call_command("make_demo_seal")

    values = dict(
        line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line
    )
    p12 = tmp_path / "seal" / "demo-seal.p12"
    assert values["ESURE_SEAL_P12"] == str(p12)
    assert len(values["ESURE_SEAL_PASSPHRASE"]) >= 24
    assert p12.stat().st_mode & 0o077 == 0  # only its owner reads the key

    # With those settings (and no TSA, as in the demo) esure signs, and the check trusts it.
    settings.ESURE_SEAL_P12 = values["ESURE_SEAL_P12"]
    settings.ESURE_SEAL_PASSPHRASE = values["ESURE_SEAL_PASSPHRASE"]
    settings.ESURE_TSA_URL = ""
    assert seal.current_seal().name == settings.ESURE_SURETY_NAME
    rendered = pdf.render_issuance_documents(unsaved_certificate())
    verdict = check_pdf(seal.sign_pdf(rendered[Document.Kind.CERTIFICATE], stamp=True))
    assert verdict.outcome == Outcome.VALID
    assert verdict.timestamp_at is None  # signing time only: the demo has no TSA

    # Run again, it keeps the seal it made.
    call_command("make_demo_seal")
    assert env_file.read_text().count("ESURE_SEAL_P12=") == 1
