"""Check any PDF: is it a document esure signed, intact, and which version is it? (decision 0016)

`check_pdf(data)` is the one validation function: `manage.py verify_pdf` and D-Sure's
「電子証書の検証」 page both call it and show its `Verdict`. pyHanko validates the first
signature (esure's certification signature): the signed bytes' hash (intact), the CMS
signature, the certificate path to the seal's trust roots with fresh revocation data (CRL or
OCSP, fetched), the timestamp, and whether anything was added after signing beyond what
PAdES allows (validation data and document timestamps). Then the registry names the
guarantee and version from the document's title and says whether the file is byte for byte
a stored original, and how that version stands today (有効 / 変更前 / 解約 / 期間満了).

A public page feeds it arbitrary bytes: it never raises for bad input, reads at most
MAX_BYTES, refuses files with more objects, revisions or pages than an esure PDF could have
before parsing them, and gives up after TIME_LIMIT seconds (outcome TOO_COMPLEX).
"""

import asyncio
import datetime
import hashlib
import re
from dataclasses import dataclass, field
from io import BytesIO

from django.utils import timezone

from certificates import seal, selectors
from certificates.models import Certificate
from certificates.numbering import parse_number

MAX_BYTES = 5 * 1024 * 1024  # the page's upload limit (issue #14)
# An esure PDF has one page (the 保証証書 and its companions), a few hundred objects and three
# revisions (rendered, signed, validation data) plus one per later document timestamp.
MAX_PAGES = 20
MAX_OBJECTS = 20_000
MAX_REVISIONS = 30
TIME_LIMIT = 20  # seconds

# The document title WeasyPrint writes from each template's {% block title %}:
# "前払金保証証書 08-1-0000001-8 第1版".
_TITLE = re.compile(r"(\d{2}-\d-\d{7}-\d)(?:\s+第(\d+)版)?")
_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")


class Outcome:
    """What a checked file is, worst first (one table: the page and the command show it)."""

    NOT_PDF = "not_pdf"
    TOO_LARGE = "too_large"
    TOO_COMPLEX = "too_complex"
    UNSIGNED = "unsigned"  # no signature, and no original of the registry
    LEGACY = "legacy"  # no signature, but byte for byte an original stored before signing
    BROKEN = "broken"  # the signature does not match the bytes: changed after signing
    MODIFIED = "modified"  # signature intact, but something was added after it
    REVOKED = "revoked"  # the signing certificate has been revoked
    UNTRUSTED = "untrusted"  # intact, but not from a trusted certification authority
    NOT_ESURE = "not_esure"  # intact and trusted, but not signed with esure's seal
    VALID = "valid"

    MESSAGES = {
        NOT_PDF: "PDF ファイルではないか、読み取れないファイルです。",
        TOO_LARGE: "ファイルが大きすぎます（5 MB まで）。",
        TOO_COMPLEX: "構造が複雑すぎるため検証できません。esure の電子証書ではありません。",
        UNSIGNED: "電子署名のない PDF です。esure が発行した電子証書ではありません。",
        LEGACY: "署名のない旧形式の電子証書です。D-Sure の原本と照合してください。",
        BROKEN: "電子署名が内容と一致しません。署名の後で書き換えられています。",
        MODIFIED: "署名の後に変更が加えられています。発行されたままの電子証書ではありません。",
        REVOKED: "署名に使われた証明書は失効しています。",
        UNTRUSTED: "署名は改ざんされていませんが、信頼できる認証局の証明書ではありません。",
        NOT_ESURE: "署名は有効ですが、保証会社の eシール による署名ではありません。",
        VALID: "保証会社の eシール による有効な署名です。発行後に変更されていません。",
    }


@dataclass
class Verdict:
    """The answer about one file. `ok` only for VALID; the rest says what was found."""

    outcome: str
    sha256: str = ""
    signer: str = ""  # the signing certificate's holder
    signer_is_seal: bool = False
    signed_at: datetime.datetime | None = None  # the time the signer states
    timestamp_at: datetime.datetime | None = None  # the TSA's time, if timestamped
    timestamp_authority: str = ""
    timestamp_trusted: bool = False
    long_term: bool = False  # validation data embedded (PAdES B-LT)
    revoked_at: datetime.datetime | None = None
    number: str = ""  # 保証契約番号 as printed, from the document's title
    version: int | None = None
    certificate: Certificate | None = None  # the registry's version it names
    original: bool = False  # byte for byte a stored original (SHA-256 of a Document)
    standing: str = ""  # 有効 / 変更前 — 最新は第N版 / 解約 / 期間満了
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self):
        return self.outcome == Outcome.VALID

    @property
    def message(self):
        return Outcome.MESSAGES[self.outcome]


def check_pdf(data: bytes, *, today=None) -> Verdict:
    """The verdict on `data` (the bytes of an uploaded or stored file). Never raises for bad
    input; raises seal.SealError only when no seal is configured (nothing to check against)."""
    if len(data) > MAX_BYTES:
        return Verdict(Outcome.TOO_LARGE)
    digest = hashlib.sha256(data).hexdigest()
    if b"%PDF-" not in data[:1024]:
        return Verdict(Outcome.NOT_PDF, sha256=digest)
    if len(_OBJECT.findall(data)) > MAX_OBJECTS or data.count(b"%%EOF") > MAX_REVISIONS:
        return Verdict(Outcome.TOO_COMPLEX, sha256=digest)
    current = seal.current_seal() if seal.configured() else None
    if current is None:
        raise seal.SealError("no eシール is configured: there is nothing to check against")
    try:
        found = seal.run(_validate(data, current), timeout=TIME_LIMIT)
    except TimeoutError:
        return Verdict(Outcome.TOO_COMPLEX, sha256=digest)
    except _TooComplex:
        return Verdict(Outcome.TOO_COMPLEX, sha256=digest)
    except Exception:  # whatever pyHanko cannot parse is not a PDF we can read
        return Verdict(Outcome.NOT_PDF, sha256=digest)
    verdict = Verdict(found.pop("outcome"), sha256=digest, **found)
    _identify(verdict, today or timezone.localdate())
    return verdict


class _TooComplex(Exception):
    pass


async def _validate(data, current):
    """pyHanko's findings as plain values (run on the seal's loop; no database here)."""
    # pyHanko is imported by the first check, not with D-Sure's pages (decision 0040).
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature

    await asyncio.sleep(0)
    reader = PdfFileReader(BytesIO(data))
    if reader.xrefs.total_revisions > MAX_REVISIONS:
        raise _TooComplex
    found = _describe(PdfFileReader(BytesIO(data)))  # a reader of its own: see _describe
    signatures = reader.embedded_signatures
    if not signatures:
        return {**found, "outcome": Outcome.UNSIGNED}
    embedded = signatures[0]  # the first: esure's certification signature
    context = current.validation_context(revocation_mode="soft-fail")
    status = await async_validate_pdf_signature(
        embedded, signer_validation_context=context, ts_validation_context=context
    )
    subject = status.signing_cert.subject.native
    found.update(
        signer=subject.get("organization_name") or subject.get("common_name") or "",
        signer_is_seal=status.signing_cert.dump() in current.seal_certificates,
        signed_at=status.signer_reported_dt,
        long_term=_has_validation_data(reader),
    )
    timestamp = status.timestamp_validity
    if timestamp is not None:
        tsa = timestamp.signing_cert.subject.native
        found.update(
            timestamp_at=timestamp.timestamp,
            timestamp_authority=tsa.get("common_name") or tsa.get("organization_name") or "",
            timestamp_trusted=bool(timestamp.intact and timestamp.valid and timestamp.trusted),
        )
    if status.revocation_details is not None:
        found["revoked_at"] = status.revocation_details.revocation_date
    found["outcome"] = _outcome(status, found["signer_is_seal"])
    return found


def _describe(reader):
    """The page count check and the number and version the title (document information)
    names. On a reader of its own: pyHanko's modification analysis failed on a reader whose
    document information had been read before ("No container reference available")."""
    pages = reader.root["/Pages"].get("/Count", 0)
    if not isinstance(pages, int) or pages > MAX_PAGES:
        raise _TooComplex
    info = reader.trailer_view.get("/Info")
    info = info.get_object() if info is not None else {}
    title = str(info.get("/Title", "")) if hasattr(info, "get") else ""
    match = _TITLE.search(title)
    if not match:
        return {"number": "", "version": None}
    return {"number": match.group(1), "version": int(match.group(2)) if match.group(2) else None}


def _outcome(status, signer_is_seal):
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    if not (status.intact and status.valid):
        return Outcome.BROKEN
    changed_after = status.coverage != SignatureCoverageLevel.ENTIRE_FILE and (
        status.modification_level not in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
    )
    if changed_after or status.docmdp_ok is False:
        return Outcome.MODIFIED
    if status.revoked:
        return Outcome.REVOKED
    if not status.trusted:
        return Outcome.UNTRUSTED
    if not signer_is_seal:
        return Outcome.NOT_ESURE
    return Outcome.VALID


def _has_validation_data(reader):
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:  # no DSS, or an unreadable one
        return False
    return bool(dss.certs) and bool(dss.crls or dss.ocsps)


def _identify(verdict, today):
    """Name the registry's version the file shows, whether it is a stored original, and how
    that version stands today. Only for a file whose content can be trusted to be the one
    signed (or an unsigned file that is byte for byte an original)."""
    if verdict.outcome not in (Outcome.VALID, Outcome.NOT_ESURE, Outcome.UNSIGNED):
        return
    parsed = parse_number(verdict.number) if verdict.number else None
    if parsed is None:
        return
    certificates = Certificate.objects.filter(guarantee__number=parsed.number).select_related(
        "guarantee"
    )
    if verdict.version is not None:
        certificates = certificates.filter(version=verdict.version)
    match = (
        certificates.filter(documents__sha256=verdict.sha256).first()
        if verdict.sha256
        else None
    )
    if verdict.outcome == Outcome.UNSIGNED:
        if match is None:
            return
        verdict.outcome = Outcome.LEGACY
    if verdict.outcome == Outcome.NOT_ESURE:
        if match is None:
            return  # another signer's file that merely carries a number: name nothing
        # Byte for byte an original the registry stored: signed with an earlier seal.
        verdict.outcome = Outcome.VALID
        verdict.notes.append("以前の eシール 証明書で署名された原本です。")
    certificate = match or certificates.first()
    if certificate is None or verdict.version is None:
        return
    verdict.certificate = certificate
    verdict.original = match is not None
    verdict.standing = selectors.version_standing(certificate, today=today)
