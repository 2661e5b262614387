"""The documents ask WeasyPrint for no OpenType feature (static/css/certificate.css): with one
(a font-kerning other than auto, a font-variant, font-feature-settings) WeasyPrint 70 gives
every text layout a Pango attribute list it never frees — ~0.05 MB a PDF that the worker
kept (bench/README.md, "A rendering process's memory"). The list markers' tabular figures
come from WeasyPrint's own stylesheet (html5_ua.css, `::marker`): a few layouts a page."""

from certificates import pdf
from certificates.models import Document
from esure.choices import GuaranteeKind
from tests.certificates.test_pdf_documents import unsaved_certificate


def test_the_issuance_documents_are_laid_out_without_font_features():
    pdf._local.__dict__.clear()  # a new FontConfiguration: its cache of features starts empty
    documents = pdf.render_issuance_documents(unsaved_certificate(GuaranteeKind.CONTRACT))
    assert set(documents) == set(Document.Kind)  # all three
    assert set(pdf._renderer()[1].font_features) <= {b"tnum 1"}
