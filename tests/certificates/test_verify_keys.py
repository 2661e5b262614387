"""`manage.py export_key_check` / `verify_keys` (certificates.integrity): the keys handed out
before a backup still verify after the restore — the database kept each key_version and
ESURE_AUTH_KEY_SECRET came back. The check file holds digests, never a key."""

import io
import os
import re

import pytest
import time_machine
from django.core.management import call_command

from certificates import services as registry
from certificates.integrity import KEY_CHECK_HEADER, key_check_lines, verify_key_check
from tests.conftest import NOW, WORK_DATES, make_concluded, make_staff


@pytest.fixture
def guarantees(clerk, tsukumi):
    """An electronic 前払金保証 (key_version 1) and a 書面交付 one (no key)."""
    company = clerk.membership.company
    with time_machine.travel(NOW, tick=False):
        [electronic] = make_concluded(company=company, **WORK_DATES)
        [paper] = make_concluded(company=company, delivery="paper", **WORK_DATES)
    return electronic, paper


def verify_keys(path):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_keys", "--from", str(path), stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_export_then_verify_passes_and_the_file_holds_no_key(guarantees, tmp_path):
    electronic, _paper = guarantees  # no key: not in the file
    path = tmp_path / "key-check.txt"
    call_command("export_key_check", "--out", str(path), stdout=io.StringIO())

    assert os.stat(path).st_mode & 0o777 == 0o600
    text = path.read_text()
    key = registry.current_key(electronic)
    assert key not in text and key.replace("-", "") not in text
    lines = text.splitlines()
    assert lines[0] == KEY_CHECK_HEADER
    assert [line.split()[:2] for line in lines[1:]] == [[electronic.number, "1"]]
    assert re.fullmatch(r"[0-9a-f]{64}", lines[1].split()[2])
    assert verify_keys(path) == (0, "keys OK: 1\n", "")


def test_a_wrong_secret_fails_every_key(guarantees, settings, tmp_path):
    electronic, _ = guarantees
    lines = list(key_check_lines())
    settings.ESURE_AUTH_KEY_SECRET = "not-the-secret-the-keys-were-printed-with"

    report = verify_key_check(lines)
    assert (report.ok, report.failed) == (0, 1)
    assert report.failures == [
        f"{electronic.number}: the key no longer verifies (wrong ESURE_AUTH_KEY_SECRET?)"
    ]
    path = tmp_path / "key-check.txt"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = verify_keys(path)
    assert code == 1 and out == "" and "keys FAILED: 1 of 1" in err


def test_the_same_secret_passed_explicitly_passes(guarantees, settings):
    lines = list(key_check_lines())
    secret = settings.ESURE_AUTH_KEY_SECRET
    settings.ESURE_AUTH_KEY_SECRET = "something-else"
    assert verify_key_check(lines, secret=secret).passed
    assert not verify_key_check(lines).passed


def test_a_reissue_lost_or_added_after_the_export_fails(guarantees):
    electronic, _ = guarantees
    lines = list(key_check_lines())
    registry.reissue_key(guarantee=electronic, by=make_staff(), reason="誤送信")

    report = verify_key_check(lines)
    assert report.failures == [f"{electronic.number}: key_version 2, recorded 1"]


def test_unknown_numbers_and_malformed_lines_fail(db):
    report = verify_key_check(["# header", "", "08100000018 1 " + "0" * 64, "garbage"])
    assert report.failures == [
        "line 4: not 'number key_version digest'",
        "08100000018: no such guarantee",
    ]
    assert report.ok == 0
