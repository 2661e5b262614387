"""Read-only checks that the registry's originals survived a backup and restore.

- verify_documents: every stored PDF (Document) is in the storage and its bytes still hash
  to the SHA-256 recorded at issuance.
- key_check_lines / verify_key_check: every 認証キー handed out before a backup is still the
  key the restored system accepts, i.e. ESURE_AUTH_KEY_SECRET and each key_version came back.
  The check file holds SHA-256(number:key), never the key: a key has 80 random bits, so the
  digest cannot be turned back into the key, and the file may be handled like any log.

- lost_numbers: 保証契約番号 whose PDFs are in the storage but whose guarantees are not in
  the database (a restore to an earlier time lost them); reserve_lost_numbers keeps the
  counters from giving them again.

Used by `manage.py verify_storage`, `export_key_check`, `verify_keys` and the restore drill
(ops/restore-drill.sh, docs/operations.md). Nothing here writes to the database.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass, field

from django.core.files.storage import default_storage

from certificates import keys
from certificates.models import Document, Guarantee
from certificates.numbering import parse_number

CHUNK = 1024 * 1024
KEY_CHECK_HEADER = "# esure key check v1: number key_version sha256(number:key)"


@dataclass
class Report:
    """What a check found: how many were fine, and the first failures (a readable few)."""

    ok: int = 0
    bytes: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    max_listed: int = 20

    def fail(self, line):
        self.failed += 1
        if len(self.failures) < self.max_listed:
            self.failures.append(line)

    @property
    def passed(self):
        return self.failed == 0


def _sha256_of(storage, name):
    digest = hashlib.sha256()
    size = 0
    with storage.open(name, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def verify_documents(storage=None):
    """Open every Document's file in the storage and compare its SHA-256 with the record.

    A missing file, an unreadable one and one whose bytes changed are each a failure; the
    originals are immutable, so any difference is damage, never an update.
    """
    storage = storage or default_storage
    report = Report()
    documents = Document.objects.order_by("pk").values_list("pk", "file", "sha256")
    for pk, name, recorded in documents.iterator(chunk_size=1000):
        if not name:
            report.fail(f"document {pk}: no file name recorded")
            continue
        try:
            actual, size = _sha256_of(storage, name)
        except FileNotFoundError:
            report.fail(f"document {pk} {name}: missing")
            continue
        except OSError as error:
            report.fail(f"document {pk} {name}: unreadable ({error.__class__.__name__})")
            continue
        if not hmac.compare_digest(actual, recorded):
            report.fail(f"document {pk} {name}: SHA-256 differs from the recorded one")
            continue
        report.ok += 1
        report.bytes += size
    return report


def key_digest(number, key):
    """SHA-256 of number:key (16 symbols, unformatted): proves a key without holding it."""
    return hashlib.sha256(f"{number}:{key}".encode()).hexdigest()


def key_check_lines():
    """One line per guarantee with a key (電子交付, key_version ≥ 1), derived with the
    current ESURE_AUTH_KEY_SECRET: number, key_version, digest of the key."""
    yield KEY_CHECK_HEADER
    guarantees = (
        Guarantee.objects.filter(key_version__gte=1)
        .order_by("number")
        .values_list("number", "key_version", "key_salt")
    )
    for number, version, salt in guarantees.iterator(chunk_size=1000):
        key = keys.derive_key(number, version, salt=salt)
        yield f"{number} {version} {key_digest(number, key)}"


def verify_key_check(lines, secret=None):
    """Each recorded key must still be the one the database and secret give now: the
    guarantee exists, its key_version is the recorded one, and the key derived now (as
    D-Sure derives it, keys.derive_key) has the recorded digest (constant-time compare).

    A wrong or lost ESURE_AUTH_KEY_SECRET fails every line; a lost re-issue fails its own.
    `secret` overrides settings.ESURE_AUTH_KEY_SECRET (tests).
    """
    report = Report()
    batch = {}
    for n, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or not parts[1].isdigit():
            report.fail(f"line {n}: not 'number key_version digest'")
            continue
        batch[parts[0]] = (int(parts[1]), parts[2])
        if len(batch) >= 1000:
            _check_keys(batch, secret, report)
            batch = {}
    _check_keys(batch, secret, report)
    return report


def _check_keys(recorded, secret, report):
    current = {
        number: (version, salt)
        for number, version, salt in Guarantee.objects.filter(
            number__in=list(recorded)
        ).values_list("number", "key_version", "key_salt")
    }
    for number, (version, digest) in recorded.items():
        if number not in current:
            report.fail(f"{number}: no such guarantee")
        elif current[number][0] != version:
            report.fail(f"{number}: key_version {current[number][0]}, recorded {version}")
        elif not hmac.compare_digest(
            key_digest(number, keys.derive_key(number, version, secret, salt=current[number][1])),
            digest,
        ):
            report.fail(f"{number}: the key no longer verifies (wrong ESURE_AUTH_KEY_SECRET?)")
        else:
            report.ok += 1


# --- Numbers lost by a restore ---------------------------------------------------------------

# How store_document names a PDF: <number>-v<version>-<kind>.pdf (Django may add a suffix).
_STORED_NAME = re.compile(r"^(\d{11})-v\d+-")


def _stored_files(storage, folder="documents"):
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    yield from files
    for sub in folders:
        yield from _stored_files(storage, f"{folder}/{sub}")


def lost_numbers(storage=None):
    """保証契約番号 that have a PDF in the storage but no guarantee in the database: the
    conclusions a restore to an earlier point in time lost. Their numbers must never be
    given again (an orderer may hold their certificate and key notice). Sorted."""
    storage = storage or default_storage
    stored = {
        match.group(1)
        for name in _stored_files(storage)
        if (match := _STORED_NAME.match(name)) and parse_number(match.group(1)) is not None
    }
    known = set(Guarantee.objects.filter(number__in=stored).values_list("number", flat=True))
    return sorted(stored - known)
