"""PDFs of the registry: 保証証書, お客様控え, 保証料計算書 (at issuance) and the key notice.

WeasyPrint renders Django templates on A4 (DESIGN.md §7):
- Fonts are the Debian IPAex files, declared with @font-face and named explicitly
  ("IPAexMincho" for the text, "IPAexGothic" for headings): with fonts-noto-cjk also
  installed, WeasyPrint would otherwise embed whichever CJK font fontconfig prefers
  (DESIGN.md §10). The PDF embeds subsets of these two fonts and nothing else.
- static/css/certificate.css is read from the filesystem through the staticfiles finders,
  never over HTTP; the URL fetcher refuses every URL but the font files and data: URIs
  (the QR code), so a template can never make the renderer reach the network.
- The certificate's body is the partial templates/certificates/_certificate_body.html,
  which the contractor's and D-Sure's pages include with `certificate_context()`: the
  screen prints what the PDF shows.

Certificate PDFs are rendered once, at issuance (`render_issuance_documents`), signed with
the eシール (certificates.seal) and served as stored; the key notice carries the 認証キー and
is rendered (and signed) on demand, never stored.
"""

import atexit
import datetime
import functools
import os
import threading
import zlib
from decimal import Decimal
from pathlib import Path

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import lazy

from certificates import keys, seal
from certificates.models import Document
from esure.choices import GuaranteeKind
from esure.wareki import TOKYO, format_yen, to_wareki

# The only fonts a PDF may embed (Debian fonts-ipaexfont), by the family names the CSS uses.
FONT_FILES = {
    "IPAexMincho": Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"),
    "IPAexGothic": Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
}
STYLESHEET = "css/certificate.css"  # a staticfiles path, shared with the screens' print
DISPLAY_LINE = "この書面は電子証書の内容を表示したものです"

TEMPLATES = {
    Document.Kind.CERTIFICATE: "certificates/pdf/certificate.html",
    Document.Kind.CUSTOMER_COPY: "certificates/pdf/customer_copy.html",
    Document.Kind.FEE_STATEMENT: "certificates/pdf/fee_statement.html",
}
KEY_NOTICE_TEMPLATE = "certificates/pdf/key_notice.html"

# The workflow records the payment method as a code (applications.models.FeeReceipt.Method);
# the registry does not import applications, so it knows the printed words here. An
# unknown value (or a label) prints as given.
PAYMENT_METHODS = {"transfer": "銀行振込", "debit": "口座振替", "counter": "窓口"}

# Which row of the facts table a changed field (content["changes"][i]["field"], either
# "amount" or "guarantee.amount") marks as 変更.
CHANGED_ROWS = {
    "amount": "amount",
    "starts_on": "period",
    "ends_on": "period",
    "price": "price",
    "start_date": "work_period",
    "end_date": "work_period",
    "contract_date": "contract_date",
    "name": "work_name",
    "location": "location",
}

_FONT_FACES = "\n".join(
    f'@font-face {{ font-family: "{family}"; src: url("{path.as_uri()}"); }}'
    for family, path in FONT_FILES.items()
)


_local = threading.local()

# pydyf (WeasyPrint's PDF writer) deflates every stream at zlib's level 9; level 6 (zlib's
# default) costs a third of its CPU for files 0.8 % larger: 8.4 → 3.1 ms of a ~100 ms
# document, 61,300 → 61,783 bytes of streams (bench/README.md, 2026-12-06).
COMPRESSION_LEVEL = 6


class _Deflate:
    """zlib as pydyf calls it, with every compressobj at COMPRESSION_LEVEL, whatever level
    pydyf asks for (it asks for 9 and has no option); the rest of zlib unchanged."""

    def __getattr__(self, name):
        return getattr(zlib, name)

    @staticmethod
    def compressobj(level=zlib.Z_DEFAULT_COMPRESSION, *args, **kwargs):
        return zlib.compressobj(COMPRESSION_LEVEL, *args, **kwargs)


def _deflate_at_level():
    import pydyf

    if not isinstance(pydyf.zlib, _Deflate):
        pydyf.zlib = _Deflate()


@atexit.register
def _drop_renderer():
    """WeasyPrint's FontConfiguration removes its folder of font files (in /tmp) when it is
    collected; the main thread's renderer would be collected after WeasyPrint's modules are
    torn down (they are imported after this one), and the folder would stay."""
    _local.__dict__.clear()


def _renderer():
    """(fetcher, font configuration, stylesheets), kept per thread and rebuilt when
    certificate.css changes: loading the two fonts and parsing the CSS took about a third
    of a render (~70 ms of CPU), and WeasyPrint's objects are not shared across threads."""
    path = finders.find(STYLESHEET)
    if not path:
        raise FileNotFoundError(f"static file {STYLESHEET} not found")
    key = (path, os.stat(path).st_mtime_ns)
    if getattr(_local, "key", None) != key:
        # WeasyPrint (~32 MB) is imported by the first render, not with this module: the
        # screens import it for certificate_context() and never render (decision 0040).
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        from certificates.pdf_fetcher import LocalOnlyFetcher

        _deflate_at_level()
        fetcher = LocalOnlyFetcher()
        font_config = FontConfiguration()
        stylesheets = [
            CSS(string=_FONT_FACES, font_config=font_config, url_fetcher=fetcher),
            CSS(filename=path, font_config=font_config, url_fetcher=fetcher),
        ]
        _local.key, _local.renderer = key, (fetcher, font_config, stylesheets)
    return _local.renderer


def _render(template_name, context):
    from weasyprint import HTML  # imported on first use: see _renderer

    html = render_to_string(template_name, context)
    fetcher, font_config, stylesheets = _renderer()
    return HTML(string=html, url_fetcher=fetcher).render(
        stylesheets=stylesheets, font_config=font_config
    )


def render_pdf(template_name, context) -> bytes:
    """Render a Django template to HTML and WeasyPrint it on A4 (certificate.css + IPAex)."""
    return _render(template_name, context).write_pdf()


def render_one_page_pdf(template_name, context) -> bytes:
    """As render_pdf, for a certificate: one A4 page. A content too long for the normal
    layout (long names, many changes) is rendered again with compact=True (smaller type)."""
    document = _render(template_name, context)
    if len(document.pages) > 1:
        document = _render(template_name, {**context, "compact": True})
    return document.write_pdf()


# ---------------------------------------------------------------------------------------
# What the templates read


def dsure_url() -> str:
    """The D-Sure viewer's address, printed on key notices."""
    return f"{settings.ESURE_SITE_URL}/dsure/"


def qr_url(number_display: str) -> str:
    """What the QR code on the key notice encodes: the D-Sure URL with the number — never
    the key (a printout must not open the certificate by itself)."""
    return f"{dsure_url()}?number={number_display}"


def check_url(fingerprint: str) -> str:
    """What the QR code at the foot of a certificate's documents encodes: D-Sure's
    「電子証書の検証」 for the version whose content has this fingerprint (the SHA-256 the
    printout also shows) — which version it is and whether it is still in force, no key."""
    return f"{dsure_url()}check/{fingerprint}/"


@functools.lru_cache(maxsize=4096)
def qr_data_uri(url: str) -> str:
    """The QR code of url as an inline SVG data URI (no file, no request).

    Cached per process: the same URL always draws the same code, and drawing it was about
    half of the D-Sure viewer's CPU in the benchmark (bench/README.md)."""
    return segno.make(url, error="m").svg_data_uri(border=0, omitsize=True)


# qr_data_uri(url) when a template prints it (document_view).
_lazy_qr = lazy(qr_data_uri, str)


def rate_percent(rate_ppm: int) -> str:
    """A rate in parts per million as printed, with at least two decimals: 4000 → "0.40",
    650 → "0.065" (rate_ppm / 10,000 = %)."""
    percent = (Decimal(rate_ppm) / 10_000).normalize()
    text = format(percent, "f")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def fingerprint_groups(fingerprint: str, size: int = 8) -> list[str]:
    """The SHA-256 hex in groups of eight, to read aloud or compare by eye."""
    return [fingerprint[i : i + size] for i in range(0, len(fingerprint), size)]


def _date(value):
    return datetime.date.fromisoformat(value) if value else None


def _change_value(value):
    """A changed value as printed: yen for amounts (ints), 和暦 for ISO dates."""
    if isinstance(value, int) and not isinstance(value, bool):
        return format_yen(value)
    if isinstance(value, str):
        try:
            return to_wareki(datetime.date.fromisoformat(value))
        except ValueError:
            return value
    return "" if value is None else str(value)


def _cancellation(cancellation):
    if not cancellation:
        return None
    return {**cancellation, "date": _date(cancellation.get("date"))}


def document_view(content, fingerprint) -> dict:
    """The canonical content (certificates.content) as the templates read it: ISO dates as
    dates, the issue time in Tokyo, fee and changes ready to print, the QR code."""
    issued_at = datetime.datetime.fromisoformat(content["issued_at"]).astimezone(TOKYO)
    work, guarantee = content["work"], content["guarantee"]
    fee = dict(content.get("fee") or {})
    if fee:
        fee["received_on"] = _date(fee.get("received_on"))
        fee["method_label"] = PAYMENT_METHODS.get(fee.get("method"), fee.get("method") or "")
        if fee.get("rate_ppm") is not None:
            fee["rate_percent"] = rate_percent(fee["rate_ppm"])
            # The amount at the rate, as the 保証料計算書 explains it (whole yen, rounded down).
            fee["rated"] = guarantee["amount"] * fee["rate_ppm"] // 1_000_000
    changes = [
        {
            **change,
            "old_display": _change_value(change.get("old")),
            "new_display": _change_value(change.get("new")),
        }
        for change in content.get("changes") or []
    ]
    changed = {
        CHANGED_ROWS.get(str(change.get("field", "")).rsplit(".", 1)[-1]) for change in changes
    } - {None}
    url = qr_url(content["number_display"])
    checked = check_url(fingerprint)
    return {
        **content,
        "kind": GuaranteeKind(content["kind"]),
        "issued_at": issued_at,
        "issued_time": f"{issued_at.hour}時{issued_at.minute:02d}分",
        "work": {
            **work,
            "contract_date": _date(work.get("contract_date")),
            "start_date": _date(work.get("start_date")),
            "end_date": _date(work.get("end_date")),
        },
        "guarantee": {
            **guarantee,
            "starts_on": _date(guarantee["starts_on"]),
            "ends_on": _date(guarantee["ends_on"]),
        },
        "fee": fee,
        "changes": changes,
        "cancellation": _cancellation(content.get("cancellation")),
        "changed": changed,
        "fingerprint": fingerprint,
        "fingerprint_groups": fingerprint_groups(fingerprint),
        "qr_url": url,
        # Drawn when a template prints it, not before: a 保証証書 shows only the check code,
        # the key notice only D-Sure's; a new code costs ~6.7 ms of CPU (segno's mask choice).
        "qr_data_uri": _lazy_qr(url),
        "check_url": checked,
        "check_qr_data_uri": _lazy_qr(checked),
        "display_line": DISPLAY_LINE,
    }


BODY_TEMPLATE = "certificates/_certificate_body.html"


def certificate_context(certificate, **extra) -> dict:
    """The context of _certificate_body.html (and the PDF templates) for a Certificate.

    Screens include the partial with this context so that they print what the PDF shows.
    """
    # Every variable the templates read is defined: a missing one makes Django's template
    # engine log the whole context at DEBUG, and the key notice's context holds the key.
    context = {"compact": False, "customer_copy": False}
    return {**context, "doc": document_view(certificate.content, certificate.fingerprint), **extra}


# Rendered bodies kept per process, the oldest dropped first beyond this many (each is a few
# kB, most of it the QR code): a viewer's page and its next views of the same version.
BODY_CACHE_SIZE = 512
_bodies = {}


def certificate_body(certificate):
    """_certificate_body.html rendered for a stored version, as the D-Sure viewer shows it
    (what the PDF shows). Rendered once per process and version: a version's row never
    changes (the append-only trigger), so neither does its body (decision 0037)."""
    key = (certificate.pk, certificate.fingerprint)
    body = _bodies.get(key)
    if body is None:
        body = render_to_string(BODY_TEMPLATE, certificate_context(certificate))
        while len(_bodies) >= BODY_CACHE_SIZE:
            _bodies.pop(next(iter(_bodies)), None)
        _bodies[key] = body
    return body


# ---------------------------------------------------------------------------------------
# The documents


def seal_stamp(certificate):
    """What the 保証証書's eシール stamp says: the seal's holder and the signing time (the
    issue time: the PDFs are signed in the issuing transaction, seconds later); None when
    no seal is configured (nothing is signed, so no stamp is drawn)."""
    if not seal.configured():
        return None
    return {"name": seal.current_seal().name, "at": timezone.localtime(certificate.issued_at)}


def render_issuance_documents(certificate, kinds=None) -> dict:
    """The PDFs of a certificate version, rendered once and stored: {Document.Kind.CERTIFICATE:
    …, CUSTOMER_COPY: …, FEE_STATEMENT: …} (bytes, unsigned: certificates.services signs them),
    or only those of `kinds`. The 保証証書 carries the seal's stamp."""
    context = certificate_context(certificate)
    stamped = {**context, "seal_stamp": seal_stamp(certificate)}
    return {
        kind: render_one_page_pdf(name, stamped if kind == Document.Kind.CERTIFICATE else context)
        for kind, name in TEMPLATES.items()
        if kinds is None or kind in kinds
    }


def render_key_notice(*, guarantee, certificate, key, orderer, office, channels, today) -> bytes:
    """電子証書閲覧用「認証キー」等のお知らせ: number + key + how to submit, on demand.

    `key` is the current 認証キー (16 symbols, with or without dashes); `channels` the
    orderer's submission channels for the guarantee's kind (SubmissionChannel members or
    their labels); `office` the section to submit to (None: the orderer's offices);
    `today` the notice's creation date. The key is printed here and in no other PDF. Signed
    with the eシール as the stored PDFs are (certificates.seal), never stored.
    """
    plain = key.replace("-", "")
    context = certificate_context(
        certificate,
        guarantee=guarantee,
        key=keys.format_key(plain),
        orderer=orderer,
        office=office,
        channels=[str(getattr(channel, "label", channel)) for channel in channels],
        dsure_url=dsure_url(),
        today=today,
    )
    return seal.sign_pdf(render_one_page_pdf(KEY_NOTICE_TEMPLATE, context))
