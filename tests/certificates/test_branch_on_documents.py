"""The contracting office (契約営業所) reaches every document: an application that chose a
branch gets a certificate, お客様控え, 保証料計算書, key notice and D-Sure page naming
「商号 支店名 受任者」 as 保証契約者; without one they name the head office and the
representative. The content is a snapshot: editing the branch later changes nothing."""

import io
import re

import pytest
from django.test import Client
from pypdf import PdfReader

from accounts.models import Branch
from certificates import pdf
from certificates import services as registry
from certificates.models import Document
from tests.conftest import WORK_DATES, dsure_lookup, make_company, make_concluded, make_work

pytestmark = pytest.mark.usefixtures("frozen")
BRANCH_LINE = "株式会社デモ建設大分支店支店長津久見次郎"


def squash(text):
    return re.sub(r"\s+", "", text)


def pdf_text(data):
    return squash("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def stored_text(guarantee, kind):
    document = Document.objects.get(certificate__guarantee=guarantee, kind=kind)
    with document.file.open("rb") as f:
        return pdf_text(f.read())


def key_notice_text(guarantee):
    certificate = guarantee.certificates.get()
    data = pdf.render_key_notice(
        guarantee=guarantee,
        certificate=certificate,
        key=registry.current_key(guarantee),
        orderer=guarantee.orderer,
        office=guarantee.office,
        channels=[],
        today=certificate.issued_at.date(),
    )
    return pdf_text(data)


def viewer_text(guarantee):
    city = Client()
    response = dsure_lookup(city, guarantee.number_display, registry.current_key(guarantee))
    assert response.status_code == 302
    page = city.get(response["Location"]).content.decode()
    return squash(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture
def demo_company(tsukumi):
    return make_company(
        name="株式会社デモ建設",
        representative_title="代表取締役",
        representative_name="津久見 太郎",
    )


def test_a_chosen_branch_and_its_agent_are_named_on_every_document(demo_company):
    branch = Branch.objects.create(
        company=demo_company,
        name="大分支店",
        address="大分県大分市府内町一丁目1番1号",
        agent_title="支店長",
        agent_name="津久見 次郎",
    )
    work = make_work(demo_company, branch=branch, **WORK_DATES)
    [guarantee] = make_concluded(work=work, copies=True)

    certificate = stored_text(guarantee, Document.Kind.CERTIFICATE)
    copy = stored_text(guarantee, Document.Kind.CUSTOMER_COPY)
    for text in (certificate, copy):
        assert "株式会社デモ建設大分支店" in text
        assert "受任者支店長津久見次郎" in text
        assert "大分県大分市府内町一丁目1番1号" in text
        assert "津久見太郎" not in text
    assert "株式会社デモ建設大分支店御中" in stored_text(guarantee, Document.Kind.FEE_STATEMENT)
    assert "保証契約者" + BRANCH_LINE in key_notice_text(guarantee)
    viewer = viewer_text(guarantee)
    assert "株式会社デモ建設大分支店" in viewer and "受任者支店長津久見次郎" in viewer

    # A snapshot: a new 受任者 later changes no issued certificate.
    Branch.objects.filter(pk=branch.pk).update(agent_name="臼杵 三郎")
    assert "受任者支店長津久見次郎" in viewer_text(guarantee)


def test_without_a_branch_the_head_office_and_representative_are_named(demo_company):
    [guarantee] = make_concluded(work=make_work(demo_company, **WORK_DATES))

    certificate = stored_text(guarantee, Document.Kind.CERTIFICATE)
    assert "代表者代表取締役津久見太郎" in certificate and "受任者" not in certificate
    assert "保証契約者株式会社デモ建設代表取締役津久見太郎" in key_notice_text(guarantee)
    assert "branch" not in guarantee.certificates.get().content["contractor"]
