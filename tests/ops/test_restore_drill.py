"""The restore drill (ops/restore-drill.sh, docs/operations.md), short: 3 guarantees seeded
through the real services, backed up (pg_dump, tar, the secrets apart), wiped, restored into
a fresh database and verified — storage, keys, audit chain — with its negative controls.

It runs the script as an operator does (`make restore-drill`), on the PostgreSQL server of
DATABASE_URL, with databases named after this process so parallel runs do not collide.
"""

import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ops" / "restore-drill.sh"
PREFIX = f"esure_drill_t{os.getpid()}"
LIST_DATABASES = "SELECT datname FROM pg_database"


def drill_env(**extra):
    """The environment of the run: the test server's host, port and user (libpq's PG*)."""
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    env = {
        **os.environ,
        "PY": sys.executable,
        "PGHOST": url.hostname or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
        "PGUSER": urllib.parse.unquote(url.username or "postgres"),
        **extra,
    }
    if url.password:
        env["PGPASSWORD"] = urllib.parse.unquote(url.password)
    return env


def run_drill(**extra):
    return subprocess.run(  # noqa: S603 — our own script, fixed arguments
        [shutil.which("sh"), str(SCRIPT)],
        cwd=ROOT,
        env=drill_env(**extra),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def drill():
    return run_drill(DRILL_GUARANTEES="3", DRILL_PREFIX=PREFIX)


def test_the_drill_restores_and_verifies_everything(drill):
    assert drill.returncode == 0, drill.stdout + drill.stderr
    out = drill.stdout
    assert "restore drill: OK" in out
    # 3 guarantees (one 書面交付, so 2 keys), one of them changed: 4 versions of 3 PDFs each
    assert "source:   3 guarantees, 4 certificate versions" in out
    assert "source database dropped, its PDFs deleted, secrets forgotten" in out
    assert "no migration pending; rows, sequences and triggers equal to the source" in out
    assert "append-only triggers refuse UPDATE and DELETE" in out
    assert re.search(r"^  documents OK: 12 \([0-9,]+ bytes\)$", out, re.M)
    assert "keys OK: 2 (of 2 keys recorded before the backup)" in out
    assert re.search(r"^  audit chain OK: [1-9][0-9]* events", out, re.M)
    assert "  lost numbers: none (every stored PDF has its guarantee)" in out
    assert re.search(r"timings: .* total [0-9.]+ s$", out, re.M)


def test_each_check_was_shown_to_fail_on_damage(drill):
    out = drill.stdout
    assert "negative: wrong ESURE_AUTH_KEY_SECRET → keys FAILED: 2 of 2 (as it must)" in out
    assert "1 altered byte + 1 missing PDF → documents FAILED: 2 of 12 (as it must)" in out
    assert "1 altered audit event → audit chain BROKEN at seq 1 (as it must)" in out


def test_the_drill_prints_no_key(drill):
    assert not re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", drill.stdout)
    assert not re.search(r"\b[0-9A-HJKMNP-TV-Z]{16}\b", drill.stdout + drill.stderr)


def test_the_drill_leaves_no_database_and_no_files(drill):
    workdir = re.search(r"work directory (\S+)", drill.stdout).group(1)
    assert not Path(workdir).exists()
    databases = subprocess.run(  # noqa: S603 — psql with fixed arguments
        [shutil.which("psql"), "-X", "-A", "-t", "-d", "postgres", "-c", LIST_DATABASES],
        env=drill_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "postgres" in databases
    assert [name for name in databases if name.startswith(PREFIX)] == []


def test_a_prefix_outside_esure_drill_is_refused():
    refused = run_drill(DRILL_PREFIX="esure")
    assert refused.returncode == 2
    assert "DRILL_PREFIX must start with esure_drill" in refused.stderr


@pytest.fixture(scope="module")
def drill_on_buckets(seaweedfs):
    """The same drill with every storage a bucket of the suite's SeaweedFS."""
    return run_drill(
        DRILL_GUARANTEES="3",
        DRILL_PREFIX=f"{PREFIX}s",
        DRILL_S3_ENDPOINT_URL=seaweedfs.endpoint_url,
        **seaweedfs.environ,
    )


def test_the_drill_backs_up_and_restores_the_buckets_objects(drill_on_buckets, seaweedfs):
    drill = drill_on_buckets
    assert drill.returncode == 0, drill.stdout + drill.stderr
    out = drill.stdout
    assert "source database dropped, its bucket deleted, secrets forgotten" in out
    assert "(tar of the bucket's files)" in out
    assert re.search(r"^  documents OK: 12 \([0-9,]+ bytes\)$", out, re.M)
    assert "keys OK: 2 (of 2 keys recorded before the backup)" in out
    assert "  lost numbers: none (every stored PDF has its guarantee)" in out
    assert "1 altered byte + 1 missing PDF → documents FAILED: 2 of 12 (as it must)" in out
    # Its buckets are gone afterwards.
    names = [b["Name"] for b in seaweedfs.client().list_buckets().get("Buckets", [])]
    assert not [name for name in names if name.startswith("esure-drill")]
