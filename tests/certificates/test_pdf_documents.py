"""The PDFs rendered at issuance: 保証証書, お客様控え, 保証料計算書 (certificates.pdf).

Asserted by what a reader sees (pypdf text extraction) and by what the file embeds (only
IPAex subsets, DESIGN.md §10). Most tests render unsaved objects once per module (a render
costs ~0.1–0.3 s); the issuance test goes through the database and the storage.
"""

import datetime
import hashlib
import io
import re
import time
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from pypdf import PdfReader
from weasyprint.formatting_structure.boxes import TableBox
from weasyprint.urls import FatalURLFetchingError

from accounts.models import Company, Orderer, OrdererOffice
from certificates import content as certificate_content
from certificates import keys, pdf
from certificates.models import Certificate, Document, Guarantee, Work
from certificates.numbering import format_number, make_number
from certificates.pdf_fetcher import LocalOnlyFetcher
from esure.choices import ContractMethod, GuaranteeKind, WorkCategory

TOKYO = ZoneInfo("Asia/Tokyo")
ISSUED_AT = datetime.datetime(2026, 11, 1, 10, 5, tzinfo=TOKYO)  # 令和8年11月1日 10時05分
WORK_NAME = "市道宮本線道路改良工事（その2）"
PRICE = 48_400_000  # 金48,400,000円
AMOUNT = 19_300_000  # 金19,300,000円
STARTS_ON = datetime.date(2026, 11, 1)  # 令和8年11月1日
ENDS_ON = datetime.date(2027, 3, 19)  # 令和9年3月19日
FEE = {
    "fee": 69_480,  # 19,300,000 × 0.36%
    "rate_ppm": 3_600,
    "minimum_fee": 5_000,
    "table_name": "前払金保証料率表",
    "is_demo": True,
    "received_on": "2026-10-30",  # 令和8年10月30日
    "method": "transfer",
}
TITLES = {
    GuaranteeKind.ADVANCE: "前払金保証証書",
    GuaranteeKind.CONTRACT: "契約保証証書",
    GuaranteeKind.INTERMEDIATE: "中間前払金保証証書",
}
CLAUSES = {  # the kind-specific words of the guarantee clause
    GuaranteeKind.ADVANCE: "前払金の返還債務",
    GuaranteeKind.CONTRACT: "損害金の支払",
    GuaranteeKind.INTERMEDIATE: "中間前払金の返還債務",
}
SAMPLE_CHANGES = [
    {"field": "amount", "label": "保証金額", "old": AMOUNT, "new": 21_000_000},
    {"field": "ends_on", "label": "保証期限", "old": "2027-03-19", "new": "2027-05-31"},
]


# --- builders --------------------------------------------------------------------------


def unsaved_parties(**work_fields):
    """Company, Orderer, OrdererOffice and Work as unsaved objects: rendering needs no DB."""
    company = Company(
        corporate_number="1234567890123",
        name="ACME建設株式会社",
        representative_title="代表取締役",
        representative_name="大分 一郎",
        address="大分県津久見市宮本町20番15号",
    )
    orderer = Orderer(name="津久見市", prefecture="大分県", head_title="津久見市長")
    office = OrdererOffice(orderer=orderer, name="土木課 工事担当")
    values = {
        "work_number": "津土第6-15号",
        "name": WORK_NAME,
        "location": "津久見市宮本町地内",
        "category": WorkCategory.CONSTRUCTION,
        "contract_method": ContractMethod.GENERAL,
        "price": PRICE,
        "contract_date": datetime.date(2026, 10, 20),
        "start_date": STARTS_ON,
        "end_date": ENDS_ON,
        **work_fields,
    }
    work = Work(company=company, orderer=orderer, office=office, **values)
    return company, orderer, office, work


def make_content(
    kind=GuaranteeKind.ADVANCE,
    *,
    version=1,
    amount=AMOUNT,
    ends_on=ENDS_ON,
    changes=(),
    fee=None,
    serial=12,
    work_fields=None,
):
    company, orderer, office, work = unsaved_parties(**(work_fields or {}))
    return certificate_content.build_content(
        number=make_number(8, kind, serial),
        kind=kind,
        version=version,
        issued_at=ISSUED_AT,
        company=company,
        work=work,
        orderer=orderer,
        office=office,
        amount=amount,
        starts_on=STARTS_ON,
        ends_on=ends_on,
        fee=fee or FEE,
        surety_name=settings.ESURE_SURETY_NAME,
        delivery="electronic",
        changes=changes,
    )


def unsaved_certificate(kind=GuaranteeKind.ADVANCE, **content_fields):
    content = make_content(kind, **content_fields)
    return Certificate(
        version=content["version"],
        content=content,
        fingerprint=certificate_content.fingerprint(content),
        amount=content["guarantee"]["amount"],
        starts_on=STARTS_ON,
        ends_on=datetime.date.fromisoformat(content["guarantee"]["ends_on"]),
        issued_at=ISSUED_AT,
    )


def v2_certificate():
    return unsaved_certificate(
        version=2, amount=21_000_000, ends_on=datetime.date(2027, 5, 31), changes=SAMPLE_CHANGES
    )


# --- reading PDFs ------------------------------------------------------------------------


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def squash(text):
    """Without whitespace: letter-spaced titles and grouped fingerprints read as one word."""
    return re.sub(r"\s+", "", text)


def page_count(data):
    return len(PdfReader(io.BytesIO(data)).pages)


def _fonts_of(resources, found):
    resources = resources.get_object() if resources is not None else {}
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        holder = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = holder["/FontDescriptor"].get_object()
        embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        found[str(font["/BaseFont"])] = embedded
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if "/Resources" in xobject:
            _fonts_of(xobject["/Resources"], found)


def embedded_fonts(data):
    """{BaseFont name: embedded?} over every page and form XObject."""
    found = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        _fonts_of(page.get("/Resources"), found)
    return found


IPAEX_SUBSET = re.compile(r"^/[A-Z]{6}\+IPAex(Mincho|Gothic)$")


def assert_only_ipaex_subsets(data):
    fonts = embedded_fonts(data)
    assert fonts, "no fonts found"
    for name, embedded in fonts.items():
        assert IPAEX_SUBSET.match(name), f"unexpected font {name}"
        assert embedded, f"{name} is not embedded"
    families = {IPAEX_SUBSET.match(name)[1] for name in fonts}
    assert families == {"Mincho", "Gothic"}


# --- rendered once per module ------------------------------------------------------------


@pytest.fixture(scope="module")
def issued():
    """{kind: (certificate, {Document.Kind: bytes})} for a v1 of each guarantee kind."""
    result = {}
    for kind in GuaranteeKind:
        certificate = unsaved_certificate(kind)
        result[kind] = (certificate, pdf.render_issuance_documents(certificate))
    return result


@pytest.fixture(scope="module")
def changed():
    certificate = v2_certificate()
    return certificate, pdf.render_issuance_documents(certificate)


# --- the certificate ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(GuaranteeKind))
def test_certificate_states_the_guarantee(issued, kind):
    certificate, documents = issued[kind]
    text = pdf_text(documents[Document.Kind.CERTIFICATE])
    flat = squash(text)
    assert TITLES[kind] in flat
    assert certificate.content["number_display"] in text
    assert format_number(make_number(8, kind, 12)) in text
    assert "第1版" in text
    assert "令和8年11月1日10時05分" in flat  # issue time
    assert "被保証者津久見市長殿" in flat
    assert "ACME建設株式会社" in text and "代表取締役 大分 一郎" in text
    assert "大分県津久見市宮本町20番15号" in text
    assert "津土第6-15号" in text and WORK_NAME in text and "津久見市宮本町地内" in text
    assert "金48,400,000円" in text  # 請負代金額
    assert "金19,300,000円" in text  # 保証金額
    assert "令和8年10月20日" in text  # 契約日
    assert "令和8年11月1日から令和9年3月19日まで" in flat  # 工期 and 保証期間
    assert CLAUSES[kind] in flat
    assert f"保証人{settings.ESURE_SURETY_NAME}" in flat
    assert certificate.fingerprint in flat
    assert "この書面は電子証書の内容を表示したものです" in text


def test_advance_clause_names_the_law_and_contract_clause_the_standard_terms(issued):
    advance = squash(pdf_text(issued[GuaranteeKind.ADVANCE][1][Document.Kind.CERTIFICATE]))
    contract = squash(pdf_text(issued[GuaranteeKind.CONTRACT][1][Document.Kind.CERTIFICATE]))
    assert "公共工事の前払金保証事業に関する法律" in advance
    assert "公共工事標準請負契約約款" in contract and "債務不履行" in contract


@pytest.mark.parametrize("kind", list(GuaranteeKind))
def test_certificate_is_one_a4_page(issued, kind):
    data = issued[kind][1][Document.Kind.CERTIFICATE]
    assert page_count(data) == 1
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)


def test_a_long_certificate_is_set_compact_to_stay_on_one_page():
    long_name = "市道宮本線ほか3路線道路改良工事及び排水路整備工事（その2）に伴う附帯工事" * 2
    place = "津久見市宮本町及び中央町地内"
    changes = [
        *SAMPLE_CHANGES,
        {"field": "price", "label": "請負代金額", "old": PRICE, "new": 52_800_000},
        {"field": "end_date", "label": "工期（至）", "old": "2027-03-19", "new": "2027-05-31"},
        {"field": "location", "label": "工事場所", "old": "津久見市宮本町地内", "new": place},
    ]
    certificate = unsaved_certificate(
        version=2, amount=21_000_000, changes=changes, work_fields={"name": long_name}
    )
    documents = pdf.render_issuance_documents(certificate)
    assert page_count(documents[Document.Kind.CERTIFICATE]) == 1
    assert page_count(documents[Document.Kind.CUSTOMER_COPY]) == 1
    assert squash(long_name) in squash(pdf_text(documents[Document.Kind.CERTIFICATE]))


# --- every issuance PDF -----------------------------------------------------------------


@pytest.mark.parametrize("document_kind", list(Document.Kind))
def test_every_issuance_pdf_carries_number_facts_fingerprint_and_display_line(
    issued, document_kind
):
    certificate, documents = issued[GuaranteeKind.ADVANCE]
    text = pdf_text(documents[document_kind])
    flat = squash(text)
    assert "08-1-0000012-" in text  # 保証契約番号, printed with its check digit
    assert certificate.content["number_display"] in text
    assert WORK_NAME in text
    assert "金19,300,000円" in text
    assert "令和8年11月1日" in text and "令和9年3月19日" in text
    assert certificate.fingerprint in flat
    assert "この書面は電子証書の内容を表示したものです" in text


@pytest.mark.parametrize("kind", list(GuaranteeKind))
def test_pdfs_embed_only_ipaex_subsets(issued, kind):
    for data in issued[kind][1].values():
        assert_only_ipaex_subsets(data)


def test_harfbuzz_subset_is_used_not_fonttools(caplog):
    """libharfbuzz-subset0 is WeasyPrint's fast path (DESIGN.md §10: ~80 ms against 465 ms
    a page); without it WeasyPrint falls back to fontTools and only logs a warning."""
    from weasyprint.text import ffi

    assert ffi.harfbuzz_subset is not None
    assert ffi.harfbuzz.hb_version_atleast(4, 1, 0)
    with caplog.at_level("WARNING", logger="weasyprint"):
        pdf.render_pdf(
            "certificates/pdf/certificate.html", pdf.certificate_context(unsaved_certificate())
        )
    assert "fontTools" not in caplog.text


def test_streams_are_deflated_at_zlibs_default_level_not_9(issued):
    """pydyf deflates every stream at level 9; the renderer has it use 6 (a third of the CPU,
    files 0.8 % larger: certificates.pdf.COMPRESSION_LEVEL). A zlib stream's second byte
    says which: 0x9C for the default level, 0xDA for 7–9."""
    for data in issued[GuaranteeKind.ADVANCE][1].values():
        headers = re.findall(rb"\bstream\r?\n(..)", data, re.DOTALL)
        assert len(headers) >= 5  # content, fonts, their ToUnicode maps, the object stream
        assert set(headers) == {b"x\x9c"}
        assert all(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _boxes(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child)


@pytest.mark.parametrize("template", sorted(pdf.TEMPLATES.values()))
def test_the_tables_of_issuance_documents_are_laid_out_fixed_but_the_ids(template):
    """Auto table layout measures each cell's smallest width: on Japanese text (a break after
    every character) hundreds of Pango layouts; the foot's alone was ~18 ms of a ~100 ms PDF
    (bench/README.md). Only the floated 保証契約番号 block (two short rows) keeps it."""
    context = {**pdf.certificate_context(unsaved_certificate()), "seal_stamp": None}
    document = pdf._render(template, context)
    layouts = {
        box.element.get("class"): box.style["table_layout"]
        for page in document.pages
        for box in _boxes(page._page_box)
        if isinstance(box, TableBox)
    }
    assert layouts.pop("doc-ids") == "auto"
    assert "doc-foot" in layouts and "cert-facts" in layouts
    assert set(layouts.values()) == {"fixed"}


def test_no_issuance_pdf_contains_the_key(issued, changed):
    for certificate, documents in [*issued.values(), changed]:
        number = certificate.content["number"]
        key = keys.derive_key(number, 1)
        for data in documents.values():
            flat = squash(pdf_text(data))
            assert key not in flat and keys.format_key(key) not in flat
            assert key.encode() not in data


# --- the QR code ---------------------------------------------------------------------------


def test_qr_codes_encode_dsure_urls_without_the_key(settings):
    settings.ESURE_SITE_URL = "https://esure.example.jp"
    assert pdf.qr_url("08-1-0000012-9") == "https://esure.example.jp/dsure/?number=08-1-0000012-9"
    certificate = unsaved_certificate()
    view = pdf.document_view(certificate.content, certificate.fingerprint)
    number = certificate.content["number_display"]
    key = keys.derive_key(certificate.content["number"], 1)
    # The key notice's: D-Sure's entry page with the number.
    assert view["qr_url"] == f"https://esure.example.jp/dsure/?number={number}"
    assert view["qr_data_uri"] == pdf.qr_data_uri(view["qr_url"])
    # The documents' foot: 電子証書の検証 of this version, by its content fingerprint.
    assert view["check_url"] == (f"https://esure.example.jp/dsure/check/{certificate.fingerprint}/")
    assert view["check_qr_data_uri"] == pdf.qr_data_uri(view["check_url"])
    for url in (view["qr_url"], view["check_url"]):
        assert key not in url
    assert view["qr_data_uri"].startswith("data:image/svg+xml")


def test_a_qr_code_is_drawn_only_when_a_template_prints_it():
    # A 保証証書 prints the check code alone: D-Sure's code (the key notice's) is not made.
    certificate = unsaved_certificate()
    pdf.qr_data_uri.cache_clear()
    context = pdf.certificate_context(certificate)
    assert pdf.qr_data_uri.cache_info().currsize == 0
    html = render_to_string(pdf.TEMPLATES[Document.Kind.CERTIFICATE], context)
    check = pdf.qr_data_uri(context["doc"]["check_url"])
    assert f'src="{check}"' in html
    assert pdf.qr_data_uri.cache_info().currsize == 1  # the check code, made once
    # Printed, the lazy value is the code itself.
    assert str(context["doc"]["qr_data_uri"]) == pdf.qr_data_uri(context["doc"]["qr_url"])
    assert pdf.qr_data_uri.cache_info().currsize == 2


def test_qr_svg_is_inline_in_every_issuance_document():
    context = pdf.certificate_context(unsaved_certificate())
    uri = context["doc"]["check_qr_data_uri"]
    for template in pdf.TEMPLATES.values():
        html = render_to_string(template, context)
        assert f'src="{uri}"' in html
        assert not re.search(r'(src|href)="(https?:|//)', html)  # nothing to fetch
        assert "<link" not in html  # no stylesheet link: certificate.css is read from disk


def test_the_renderer_loads_only_the_fonts_and_data_uris():
    fetcher = LocalOnlyFetcher()
    for url in ("http://example.com/x.css", "https://example.com/x.png", "file:///etc/passwd"):
        with pytest.raises(FatalURLFetchingError):
            fetcher.fetch(url)
    for path in pdf.FONT_FILES.values():
        response = fetcher.fetch(path.as_uri())
        assert response.read(4) in (b"\x00\x01\x00\x00", b"OTTO")
        response.close()


# --- a change (v2) ---------------------------------------------------------------------------


def test_a_change_version_shows_previous_and_new_values(changed):
    _, documents = changed
    text = pdf_text(documents[Document.Kind.CERTIFICATE])
    flat = squash(text)
    assert "変更前払金保証証書" in flat
    assert "第2版（変更）" in flat
    assert "変更内容" in text and "変更前" in text and "変更後" in text
    assert "保証金額金19,300,000円金21,000,000円" in flat
    assert "保証期限令和9年3月19日令和9年5月31日" in flat
    assert "金21,000,000円変更" in flat  # the changed row is marked
    assert page_count(documents[Document.Kind.CERTIFICATE]) == 1


def test_a_first_version_has_no_change_table(issued):
    text = pdf_text(issued[GuaranteeKind.ADVANCE][1][Document.Kind.CERTIFICATE])
    assert "変更内容" not in text and "変更前" not in text


# --- お客様控え and 保証料計算書 --------------------------------------------------------------


def test_customer_copy_is_marked_and_states_the_fee(issued):
    text = pdf_text(issued[GuaranteeKind.ADVANCE][1][Document.Kind.CUSTOMER_COPY])
    flat = squash(text)
    assert "お客様控え" in flat
    assert "前払金保証証書" in flat
    assert "金69,480円（非課税）" in flat
    assert "令和8年10月30日入金（銀行振込）" in flat
    assert page_count(issued[GuaranteeKind.ADVANCE][1][Document.Kind.CUSTOMER_COPY]) == 1


def test_the_certificate_itself_is_not_marked_as_a_copy(issued):
    text = pdf_text(issued[GuaranteeKind.ADVANCE][1][Document.Kind.CERTIFICATE])
    assert "お客様控え" not in text
    assert "金69,480円" not in text  # the fee is the contractor's business, not the city's


def test_fee_statement_shows_rate_minimum_fee_tax_and_payment(issued):
    data = issued[GuaranteeKind.ADVANCE][1][Document.Kind.FEE_STATEMENT]
    flat = squash(pdf_text(data))
    assert "保証料計算書" in flat
    assert "ACME建設株式会社御中" in flat
    assert "保証金額金19,300,000円" in flat
    assert "料率0.36%（前払金保証料率表）" in flat
    assert "金19,300,000円×0.36%＝金69,480円" in flat
    assert "最低保証料金5,000円" in flat
    assert "保証料金69,480円" in flat
    assert "消費税等非課税" in flat
    assert "令和8年10月30日入金（銀行振込）" in flat
    assert "デモ用の料率" in flat
    assert page_count(data) == 1


def test_fee_statement_without_demo_label_for_a_real_table():
    fee = {**FEE, "is_demo": False, "rate_ppm": 650, "fee": 12_545, "method": "窓口"}
    certificate = unsaved_certificate(GuaranteeKind.INTERMEDIATE, fee=fee)
    flat = squash(pdf_text(pdf.render_issuance_documents(certificate)[Document.Kind.FEE_STATEMENT]))
    assert "0.065%" in flat and "金12,545円" in flat and "（窓口）" in flat
    assert "デモ" not in flat


@pytest.mark.parametrize(
    ("rate_ppm", "printed"),
    [(4_000, "0.40"), (3_600, "0.36"), (650, "0.065"), (10_000, "1.00"), (1, "0.0001")],
)
def test_rate_percent(rate_ppm, printed):
    assert pdf.rate_percent(rate_ppm) == printed


def test_fingerprint_groups():
    fingerprint = hashlib.sha256(b"x").hexdigest()
    groups = pdf.fingerprint_groups(fingerprint)
    assert len(groups) == 8 and all(len(g) == 8 for g in groups)
    assert "".join(groups) == fingerprint


# --- issuance through the registry's service (database + storage) ----------------------------


def make_work_in_db(*, orderer=None):
    from tests.conftest import make_company, make_orderer

    company = make_company(name="ACME建設株式会社")
    orderer = orderer or make_orderer()
    office = orderer.offices.get(name="土木課 工事担当")
    work = Work.objects.create(
        company=company,
        orderer=orderer,
        office=office,
        work_number="津土第6-15号",
        name=WORK_NAME,
        location="津久見市宮本町地内",
        category=WorkCategory.CONSTRUCTION,
        contract_method=ContractMethod.GENERAL,
        price=PRICE,
        contract_date=datetime.date(2026, 10, 20),
        start_date=STARTS_ON,
        end_date=ENDS_ON,
    )
    return company, work


def issue_in_db(*, kind=GuaranteeKind.ADVANCE, orderer=None):
    """A concluded electronic guarantee with its Certificate v1 and stored PDFs."""
    from certificates import services

    company, work = make_work_in_db(orderer=orderer)
    [guarantee] = services.issue_guarantees(
        company=company,
        work=work,
        delivery=Guarantee.Delivery.ELECTRONIC,
        terms=[services.Terms(kind, AMOUNT, STARTS_ON, ENDS_ON, FEE)],
        issued_at=ISSUED_AT,
    )
    return guarantee


@pytest.mark.django_db
def test_issue_guarantees_stores_the_certificate_and_the_worker_the_other_two():
    from certificates import services

    guarantee = issue_in_db()
    certificate = guarantee.certificates.get()
    # In the conclusion's transaction: the 保証証書 only (decision 0033).
    assert [d.kind for d in certificate.documents.all()] == [Document.Kind.CERTIFICATE]

    services.produce_documents(certificate=certificate)  # the queued task, after commit

    documents = {d.kind: d for d in certificate.documents.all()}
    assert set(documents) == set(Document.Kind)
    for document in documents.values():
        data = document.file.read()
        document.file.close()
        assert hashlib.sha256(data).hexdigest() == document.sha256 and len(data) == document.size
        flat = squash(pdf_text(data))
        assert guarantee.number_display in flat and certificate.fingerprint in flat
    assert page_count(documents[Document.Kind.CERTIFICATE].file.open().read()) == 1


# --- how long a render takes (printed, not asserted) ------------------------------------------


def test_render_times(capsys):
    certificate = unsaved_certificate()
    context = pdf.certificate_context(certificate)
    pdf.render_pdf(pdf.TEMPLATES[Document.Kind.CERTIFICATE], context)  # warm the fonts
    lines = []
    for kind, template in pdf.TEMPLATES.items():
        start = time.perf_counter()
        data = pdf.render_one_page_pdf(template, context)
        lines.append(f"{kind}: {(time.perf_counter() - start) * 1000:.0f} ms, {len(data):,} bytes")
    with capsys.disabled():
        print("\nPDF render times:", "; ".join(lines))
