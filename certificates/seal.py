"""The surety company's eシール: every PDF the registry stores is signed here, once.

`sign_pdf(data, stamp=…)` is the one signing function (decision 0012). It makes a PAdES
signature (ETSI.CAdES.detached) with the seal certificate of ESURE_SEAL_P12 as a
certification signature that allows no later change (DocMDP P=1), asks the RFC 3161 service
of ESURE_TSA_URL for a signature timestamp, and embeds the validation data (the chains, the
CRLs/OCSP answers) in the document's DSS: PAdES B-LT, which still validates after the seal
certificate has expired. pyHanko does all of the CMS, timestamp and incremental-update work.

The seal is loaded once per process (the PKCS#12 file is read and decrypted once; its key
stays in memory and is never logged or passed to a task). pyHanko's signing is asynchronous:
it runs on one event loop of its own in a daemon thread, so that a caller with an event loop
(a browser test) can sign too, and so that one HTTP session and one cache of fetched CRLs
serve every signature (renewed every few minutes of wall-clock time).

Without ESURE_SEAL_P12 nothing is signed: the system check (certificates.checks) refuses to
run production like that; `manage.py make_demo_seal` makes a demo seal for `make run`.
"""

import asyncio
import atexit
import contextlib
import functools
import hashlib
import os
import threading
import time
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import cms, pem, x509
from django.conf import settings

# pyHanko (with aiohttp, ~27 MB) is imported where a PDF is signed or read, not with this
# module: every page imports it through the registry's services, and a web worker that
# never signs then never loads it (decision 0040).
if TYPE_CHECKING:
    from pyhanko.sign import signers
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

FIELD_NAME = "eSeal"
# The visible stamp on the 保証証書 (.cert-seal in static/css/certificate.css): 88 × 10 mm at
# the top left corner of page 1's page area (margins 16 mm left, 14 mm top), beside the
# 保証契約番号 block on the right; in PDF points from the bottom left of A4 (595.28 × 841.89).
MM = 72 / 25.4
STAMP_BOX = (16 * MM, 841.89 - 24 * MM, 104 * MM, 841.89 - 14 * MM)
SIGNING_TIMEOUT = 60  # seconds: a TSA or CRL server that hangs must not hold issuance forever
CONTEXT_RENEWED_EVERY = 300  # seconds of wall-clock time: fetched CRLs are reused that long


class SealError(Exception):
    """The seal could not be loaded or could not sign (no TSA answer, revoked, …)."""


def configured() -> bool:
    return bool(settings.ESURE_SEAL_P12)


def sign_pdf(data: bytes, *, stamp: bool = False) -> bytes:
    """The PDF `data` signed with the surety company's eシール (PAdES B-LT, certified, no
    changes allowed), with the visible stamp on page 1 if `stamp`; unchanged when no seal is
    configured (only outside production: certificates.checks)."""
    if not configured():
        return data
    return current_seal().sign(data, stamp=stamp)


def current_seal() -> "Seal":
    """The process's seal for the current settings (loaded on first use, then kept)."""
    return _load_seal(
        settings.ESURE_SEAL_P12,
        settings.ESURE_SEAL_PASSPHRASE,
        settings.ESURE_TSA_URL,
        settings.ESURE_SEAL_TRUST_ROOTS,
        os.getpid(),  # a forked worker loads its own (the loop thread does not survive a fork)
    )


@functools.lru_cache(maxsize=4)
def _load_seal(p12_path, passphrase, tsa_url, trust_roots_path, _pid):
    return Seal.load(
        p12_path, passphrase=passphrase, tsa_url=tsa_url, trust_roots_path=trust_roots_path
    )


def read_certificates(path) -> list[x509.Certificate]:
    """The certificates of a PEM (one or more) or DER file."""
    data = Path(path).read_bytes()
    if pem.detect(data):
        return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [x509.Certificate.load(data)]


def certificate_sha256(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.dump()).hexdigest()


class _Loop:
    """One asyncio loop in a daemon thread per process: pyHanko's coroutines run there."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="esure-seal", daemon=True).start()

    def run(self, coroutine, timeout=SIGNING_TIMEOUT):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@functools.lru_cache(maxsize=1)
def _loop_of(_pid) -> _Loop:
    return _Loop()


_sessions = []  # the HTTP sessions of the loaded seals, closed when the process ends


@atexit.register
def _close_sessions():
    if _sessions and _loop_of.cache_info().currsize:
        for session in _sessions:
            with contextlib.suppress(Exception):  # the process is ending anyway
                run(session.close(), timeout=5)


def run(coroutine, timeout=SIGNING_TIMEOUT):
    """Run a pyHanko coroutine on the process's seal loop and return its result."""
    return _loop_of(os.getpid()).run(coroutine, timeout)


@dataclass
class Seal:
    """A loaded seal: pyHanko's signer (key + certificate + chain), the trust roots, the TSA."""

    signer: "signers.SimpleSigner"
    trust_roots: list
    other_certs: list
    tsa_url: str
    # One HTTP session for the TSA: a new one per request costs ~55 ms (TLS context setup).
    _session: "LazySession"
    _context: tuple = field(default=(None, None), repr=False)
    _validated: tuple = field(default=(None, None), repr=False)
    _reserved: int | None = field(default=None, repr=False)

    @classmethod
    def load(cls, p12_path, *, passphrase, tsa_url="", trust_roots_path=""):
        from pyhanko.sign import signers
        from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

        path = Path(p12_path)
        if not path.is_file():
            raise SealError(f"ESURE_SEAL_P12: no file at {path}")
        signer = signers.SimpleSigner.load_pkcs12(
            str(path), passphrase=passphrase.encode() if passphrase else None
        )
        if signer is None:  # pyHanko logs the cause and returns None
            raise SealError("ESURE_SEAL_P12 could not be read (wrong ESURE_SEAL_PASSPHRASE?)")
        chain = [c for c in signer.cert_registry if c != signer.signing_cert]
        roots = [c for c in chain if c.self_signed in ("maybe", "yes")]
        if trust_roots_path:
            roots += read_certificates(trust_roots_path)
        if not roots:
            raise SealError(
                "no trust root: put the seal's root CA in the PKCS#12 file or in "
                "ESURE_SEAL_TRUST_ROOTS"
            )
        others = [c for c in chain if c not in roots]
        loaded = cls(
            signer=signer,
            trust_roots=roots,
            other_certs=others,
            tsa_url=tsa_url,
            _session=LazySession(),
        )
        _sessions.append(loaded._session)
        return loaded

    @property
    def certificate(self) -> x509.Certificate:
        return self.signer.signing_cert

    @property
    def name(self) -> str:
        """The seal's holder as its certificate names it (the organisation, else the CN)."""
        subject = self.certificate.subject.native
        return subject.get("organization_name") or subject.get("common_name") or ""

    @property
    def fingerprint(self) -> str:
        return certificate_sha256(self.certificate)

    @functools.cached_property
    def seal_certificates(self) -> frozenset:
        """The DER of the certificates that count as esure's seal (the current one; files
        signed with an earlier seal are recognised through the registry's SHA-256)."""
        return frozenset({self.certificate.dump()})

    def validation_context(self, **kwargs) -> "ValidationContext":
        """Trust anchored at the seal's roots; CRLs/OCSP fetched when needed."""
        from pyhanko_certvalidator import ValidationContext
        from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

        return ValidationContext(
            trust_roots=self.trust_roots,
            other_certs=self.other_certs,
            allow_fetching=True,
            fetcher_backend=AIOHttpFetcherBackend(session=self._session, per_request_timeout=20),
            **kwargs,
        )

    def signing_context(self) -> "ValidationContext":
        """The validation context of signing, kept a few minutes of wall-clock time: the
        seal's and the TSA's paths and fetched CRLs then serve every signature in between.
        Keyed on wall-clock time, not a monotonic clock: when the suite's clock travels, what
        was fetched at another "now" is not reused."""
        bucket = int(time.time() // CONTEXT_RENEWED_EVERY)
        key, context = self._context
        if key != bucket:
            context = self.validation_context(revocation_mode="hard-fail")
            self._context = (bucket, context)
        return context

    async def presign_validation(self, session, writer):
        """pyHanko's pre-signing validation — the seal's path to its root and the TSA's, with
        their revocation checked — once per signing context (signing_context: a few minutes
        of wall-clock time, with the CRLs it fetched), not once per document: the same
        certificates, CRLs and answer each time (~2.5 ms of a ~25 ms signature). A failure
        (a revoked seal) is not kept: the next document is refused the same way."""
        context = session.pdf_signer.signature_meta.validation_context
        kept_for, status = self._validated
        if kept_for is not context:
            status = await session.perform_presign_validation(writer)
            self._validated = (context, status)
        return status

    @functools.cached_property
    def timestamper(self):
        """The TSA client, one per seal: it keeps the dummy answer pyHanko sizes the
        signature with, so each signature asks the TSA once."""
        from pyhanko.sign import timestamps

        if not self.tsa_url:
            return None
        return timestamps.HTTPTimeStamper(self.tsa_url, timeout=20, session=self._session)

    def sign(self, data: bytes, *, stamp: bool = False) -> bytes:
        try:
            return run(self._sign(data, stamp=stamp))
        except SealError:
            raise
        except Exception as error:
            # The message names what failed (TSA, validation); never the key or passphrase.
            raise SealError(f"signing failed: {error.__class__.__name__}: {error}") from error

    async def _sign(self, data, *, stamp):
        reserved = self._reserved
        try:
            output = await self._sign_once(data, stamp=stamp, reserved=reserved)
        except Exception:
            if reserved is None:
                raise
            # The reserved space was too small (a longer TSA answer): size it again.
            self._reserved = None
            output = await self._sign_once(data, stamp=stamp, reserved=None)
        if self._reserved is None:
            self._reserved = _reserve_after(output)
        return output

    async def _sign_once(self, data, *, stamp, reserved):
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers
        from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

        metadata = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            certify=True,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
            embed_validation_info=True,
            validation_context=self.signing_context(),
            reason="eシール（発行元の証明）",
        )
        pdf_signer = signers.PdfSigner(
            metadata,
            signer=self.signer,
            timestamper=self.timestamper,
            # The stamp's words are part of the rendered page (certificates/pdf.py, drawn
            # with the document's own fonts); the signature's widget covers them with an
            # empty appearance, so a reader shows the signature when the stamp is clicked.
            stamp_style=_empty_appearance() if stamp else None,
            new_field_spec=fields.SigFieldSpec(
                FIELD_NAME, on_page=0, box=STAMP_BOX if stamp else None
            ),
        )
        # PdfSigner.async_sign_pdf's steps (pyHanko's interactive signing API), with the
        # pre-signing validation kept per signing context (presign_validation).
        writer = IncrementalPdfFileWriter(BytesIO(data))
        session = pdf_signer.init_signing_session(writer)
        validation = await self.presign_validation(session, writer)
        if reserved is None:
            reserved = await session.estimate_signature_container_size(
                validation, tight=metadata.tight_size_estimates
            )
        document = session.prepare_tbs_document(validation_info=validation, bytes_reserved=reserved)
        digest, output = document.digest_tbs_document()
        signed = await document.perform_signature(
            document_digest=digest.document_digest,
            pdf_cms_signed_attrs=PdfCMSSignedAttributes(
                signing_time=session.system_time,
                adobe_revinfo_attr=validation.adobe_revinfo_attr,
                cades_signed_attrs=metadata.cades_signed_attr_spec,
            ),
        )
        await signed.post_signature_processing(output)
        return output.getvalue()


def timestamp_state(data: bytes):
    """(signed, expiry) of a PDF: whether it carries a signature, and when the certificate of
    its newest timestamp expires (the last document timestamp's TSA, else the signature
    timestamp's; None without any timestamp). Past that moment the timestamp can no longer
    be validated: a document timestamp made before it carries the proof on (PAdES B-LTA)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import (
        MultivaluedAttributeError,
        NonexistentAttributeError,
        extract_certificate_info,
        find_unique_cms_attribute,
    )

    reader = PdfFileReader(BytesIO(data))
    signatures = reader.embedded_regular_signatures
    if not signatures:
        return False, None
    stamps = reader.embedded_timestamp_signatures
    if stamps:
        certificate = stamps[-1].signer_cert
    else:
        unsigned = signatures[0].signer_info["unsigned_attrs"]
        try:
            token = find_unique_cms_attribute(unsigned, "signature_time_stamp_token")
        except (NonexistentAttributeError, MultivaluedAttributeError):
            return True, None
        certificate = extract_certificate_info(token["content"]).signer_cert
    return True, certificate["tbs_certificate"]["validity"]["not_after"].native


def add_document_timestamp(data: bytes) -> bytes:
    """`data` with the validation data of its last timestamp and a new document timestamp
    appended (an incremental update: the old bytes are a prefix of the new). PAdES allows it
    under the certification's "no changes"; the check reads the result as unchanged."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers

    current = current_seal()
    if current.timestamper is None:
        raise SealError("ESURE_TSA_URL is not set: no document timestamp can be added")
    stamper = signers.PdfTimeStamper(current.timestamper)

    async def extend():
        output = await stamper.async_update_archival_timestamp_chain(
            PdfFileReader(BytesIO(data)),
            current.validation_context(revocation_mode="hard-fail"),
            in_place=False,
        )
        return output.getvalue()

    try:
        return run(extend())
    except Exception as error:
        raise SealError(f"timestamping failed: {error.__class__.__name__}: {error}") from error


def _reserve_after(signed: bytes) -> int:
    """The space to reserve for the next signatures, from this one's CMS: pyHanko otherwise
    sizes every signature by making it twice (a dry run, ~2/3 of the cost).

    pyHanko's `bytes_reserved` counts the hex digits of /Contents (two per byte of the CMS)
    and must be even: the CMS's length plus a quarter and 1 KB of margin (a longer TSA
    answer), doubled. Counting bytes instead (as until 2026-12) made every signature after
    the first fail for lack of room and be made again with the dry run: three signings and
    two TSA requests each."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(signed))
    contents = reader.embedded_signatures[0].sig_object["/Contents"]
    used = len(cms.ContentInfo.load(bytes(contents), strict=False).dump())
    return 2 * (used + used // 4 + 1024)


@functools.cache
def _empty_appearance():
    """A widget with nothing drawn: the stamp itself is on the page (see Seal._sign_once)."""
    from pyhanko.stamp import TextStampStyle

    return TextStampStyle(stamp_text="", border_width=0)
