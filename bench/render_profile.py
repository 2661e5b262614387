"""Where one PDF's CPU goes (issue 22): WeasyPrint's stages and the eシール's signature,
profiled in-process on real issuance content.

    .venv/bin/python bench/render_profile.py [--n 30] [--top 0]

Sets up bench/issuance.py's environment (its own database, BENCH_ISSUANCE_DB, dropped and
migrated; the suite's test PKI with a real RFC 3161 TSA and CRL on 127.0.0.1 in this
process), concludes one two-guarantee application through the real service and drains its
after-commit tasks, then for each document kind renders its template `--n` times
(`time.process_time()`, then once more under cProfile) and signs the rendered PDF `--n` times
the same way. Prints CPU ms per PDF split by stage — Django template, HTML parse, CSS cascade,
box tree, layout (Pango), drawing, font subsetting (HarfBuzz), PDF objects and compression;
pyHanko's writer, hashing, RSA, the TSA round trip (its server runs in this process: its CPU
is counted separately), validation data — and the file sizes.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/profile.py would shadow the standard library's profile, which cProfile imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
import cProfile  # noqa: E402
import pstats  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))

import issuance  # noqa: E402 — its environment, PKI, world and conclusion

STAGES = {}  # label → CPU seconds, added by the timers installed below


def timer(owner, name, label, clock=time.process_time):
    """Wrap owner.name (a function or coroutine function) so that each call adds its CPU time
    (clock) to STAGES[label]. Coroutines run on the seal's loop thread, alone: thread_time
    from start to end is their CPU there (an await that waits costs nothing)."""
    import inspect

    original = getattr(owner, name)
    if inspect.iscoroutinefunction(original):

        async def timed(*args, **kwargs):
            started = clock()
            try:
                return await original(*args, **kwargs)
            finally:
                STAGES[label] = STAGES.get(label, 0.0) + clock() - started

    else:

        def timed(*args, **kwargs):
            started = clock()
            try:
                return original(*args, **kwargs)
            finally:
                STAGES[label] = STAGES.get(label, 0.0) + clock() - started

    setattr(owner, name, timed)


class _TimedZlib:
    """pydyf's zlib (certificates.pdf's, at its level), with compressobj's work timed."""

    def __init__(self, zlib):
        self._zlib = zlib

    def __getattr__(self, name):
        return getattr(self._zlib, name)

    def compressobj(self, *args, **kwargs):
        inner = self._zlib.compressobj(*args, **kwargs)

        class Timed:
            def compress(self, data):
                started = time.process_time()
                try:
                    return inner.compress(data)
                finally:
                    STAGES["    zlib"] = STAGES.get("    zlib", 0.0) + time.process_time() - started

            def flush(self, *a):
                return inner.flush(*a)

        return Timed()


RENDER_LABELS = [
    "Django template",
    "HTML parse (tinyhtml5)",
    "CSS cascade",
    "box tree",
    "layout (Pango)",
    "render() in all",
    "write_pdf",
    "  drawing the page",
    "  fonts (subsets, widths, ToUnicode)",
    "    subsetting (HarfBuzz)",
    "  PDF file written (pydyf)",
    "    zlib",
]
SIGN_LABELS = [
    "sign, in pyHanko's loop thread",
    "  PDF read (incremental writer)",
    "  pre-sign validation (paths, CRLs)",
    "  signature field and /Contents prepared",
    "  document digest",
    "  CMS: signed attributes, RSA, timestamp",
    "    RSA",
    "    TSA request (client)",
    "    SignedData assembled (asn1crypto, retagging)",
    "    CMS serialised (ContentInfo.dump)",
    "  DSS revision (CRLs, certificates)",
]


def install_timers():
    import pydyf
    import weasyprint
    import weasyprint.document
    import weasyprint.pdf
    import weasyprint.pdf.fonts
    from asn1crypto import cms
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.signers import pdf_signer
    from pyhanko.sign.timestamps import aiohttp_client

    from certificates import pdf, seal

    pdf._renderer()  # sets pydyf's deflate level first: the timer wraps what renders use
    timer(pdf, "render_to_string", "Django template")
    timer(weasyprint.HTML, "__init__", "HTML parse (tinyhtml5)")
    timer(weasyprint.document, "get_all_computed_styles", "CSS cascade")
    timer(weasyprint.document, "build_formatting_structure", "box tree")
    timer(weasyprint.HTML, "render", "render() in all")  # layout: what the others leave
    timer(weasyprint.document.Document, "write_pdf", "write_pdf")
    timer(weasyprint.document.Page, "paint", "  drawing the page")
    timer(weasyprint.pdf, "build_fonts_dictionary", "  fonts (subsets, widths, ToUnicode)")
    timer(weasyprint.pdf.fonts.Font, "subset", "    subsetting (HarfBuzz)")
    timer(pydyf.PDF, "write", "  PDF file written (pydyf)")
    pydyf.zlib = _TimedZlib(pydyf.zlib)

    thread = time.thread_time
    timer(seal.Seal, "_sign_once", SIGN_LABELS[0], thread)
    timer(IncrementalPdfFileWriter, "__init__", SIGN_LABELS[1], thread)
    timer(pdf_signer.PdfSigningSession, "perform_presign_validation", SIGN_LABELS[2], thread)
    timer(pdf_signer.PdfSigningSession, "prepare_tbs_document", SIGN_LABELS[3], thread)
    timer(pdf_signer.PdfTBSDocument, "digest_tbs_document", SIGN_LABELS[4], thread)
    timer(pdf_signer.PdfTBSDocument, "perform_signature", SIGN_LABELS[5], thread)
    timer(signers.SimpleSigner, "async_sign_raw", SIGN_LABELS[6], thread)
    timer(signers.Signer, "_package_signature", SIGN_LABELS[8], thread)
    timer(cms.ContentInfo, "dump", SIGN_LABELS[9], thread)
    timer(aiohttp_client.HTTPTimeStamper, "async_request_tsa_response", SIGN_LABELS[7], thread)
    timer(pdf_signer.PdfPostSignatureDocument, "post_signature_processing", SIGN_LABELS[10], thread)


SERVER_CPU = issuance.SERVER_CPU  # the test PKI server's thread CPU (TSA, CRL), apart


def setup(reuse=False):
    if not reuse:
        issuance.prepare()
    issuance.start_pki()
    issuance.setup_django()
    if not reuse:
        issuance.make_world()
        (pk,) = issuance.approved_applications(1, "R")
        issuance.conclude(pk)
        issuance.drain()
    from certificates.models import Certificate

    return list(Certificate.objects.order_by("pk"))


def profile(function, n, top=0):
    """CPU ms per call over n calls, {stage: CPU ms per call} over the same calls, and the
    same n calls once more under cProfile when `top` (the functions by own time)."""
    function()  # warm
    SERVER_CPU[0] = 0.0
    STAGES.clear()
    started = time.process_time()
    for _ in range(n):
        function()
    cpu = (time.process_time() - started) / n * 1000
    server = SERVER_CPU[0] / n * 1000
    split = {label: seconds / n * 1000 for label, seconds in STAGES.items()}
    if "render() in all" in split:  # layout_document is a generator, consumed by Document()
        split["layout (Pango)"] = split["render() in all"] - sum(
            split.get(label, 0.0) for label in ("CSS cascade", "box tree")
        )
    if top:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            function()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(top)
    return cpu, server, split


def print_split(split, labels):
    for label in labels:
        if label in split:
            print(f"  {label:<44} {split[label]:7.1f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--top", type=int, default=0, help="cProfile's top functions too")
    parser.add_argument("--reuse", action="store_true", help="the database of a previous run")
    args = parser.parse_args()
    certificates = setup(reuse=args.reuse)
    from certificates import pdf, seal
    from certificates.models import Document

    install_timers()
    certificate = certificates[0]
    context = pdf.certificate_context(certificate)
    stamped = {**context, "seal_stamp": pdf.seal_stamp(certificate)}
    print(f"load average {issuance.os.getloadavg()[0]:.2f}; n = {args.n}", flush=True)
    rendered = {}
    for kind, name in pdf.TEMPLATES.items():
        ctx = stamped if kind == Document.Kind.CERTIFICATE else context

        def render(name=name, ctx=ctx):
            return pdf.render_one_page_pdf(name, ctx)

        cpu, _, split = profile(render, args.n, args.top)
        rendered[kind] = render()
        print(f"\nrender {kind}: {cpu:.1f} ms CPU per PDF, {len(rendered[kind]):,} bytes")
        print_split(split, RENDER_LABELS)
    for kind, data in rendered.items():
        stamp = kind == Document.Kind.CERTIFICATE

        def sign(data=data, stamp=stamp):
            return seal.sign_pdf(data, stamp=stamp)

        cpu, server, split = profile(sign, args.n, args.top)
        signed = sign()
        print(
            f"\nsign {kind}: {cpu:.1f} ms CPU per PDF in this process, of which "
            f"{server:.1f} ms the TSA/CRL server's → {cpu - server:.1f} ms esure's; "
            f"{len(data):,} → {len(signed):,} bytes"
        )
        print_split(split, SIGN_LABELS)
    print(f"\nload average {issuance.os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
