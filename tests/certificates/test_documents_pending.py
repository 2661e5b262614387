"""The contractor's page while a conclusion's お客様控え and 保証料計算書 are still being made
(decision 0033): the 保証証書 is there at once, the other two say 作成中 until the worker has
stored them, then they are links like any other document."""

import re

import pytest
from django.urls import reverse

from applications import services
from applications.fees import expected_fee
from certificates import services as registry
from certificates.models import Document
from esure.choices import GuaranteeKind
from tests.conftest import (
    MAX_ADVANCE,
    NOW,
    WORK_DATES,
    make_application,
    make_fee_tables,
    make_staff,
    make_work,
)

pytestmark = pytest.mark.usefixtures("frozen", "media")

PENDING_NOTE = "お客様控え・保証料計算書は締結の直後に作成しています。"


@pytest.fixture
def concluded(clerk, tsukumi):
    """A guarantee as its conclusion commits, before the worker has run."""
    make_fee_tables()
    work = make_work(clerk.membership.company, orderer=tsukumi, **WORK_DATES)
    application = make_application(
        company=clerk.membership.company,
        work=work,
        status="approved",
        items={GuaranteeKind.ADVANCE: MAX_ADVANCE},
    )
    [guarantee] = services.record_fee_receipt(
        application=application,
        received_on=NOW.date(),
        amount=expected_fee(application, NOW.date()).due,
        method="transfer",
        by=make_staff(),
    )
    return guarantee


def text_of(response):
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", response.content.decode()))


def document_url(guarantee, kind):
    return reverse("certs:document", args=[guarantee.number, 1, kind])


def test_the_page_says_in_preparation_until_the_worker_has_stored_them(clerk_client, concluded):
    page = clerk_client.get(reverse("certs:detail", args=[concluded.number]))

    assert page.status_code == 200
    text = text_of(page)
    assert "保証証書PDF" in text
    assert "お客様控えPDF（作成中）" in text and "保証料計算書PDF（作成中）" in text
    assert PENDING_NOTE in text
    assert "当初" in text and "・お客様控え（作成中）・保証料計算書（作成中）" in text
    html = page.content.decode()
    assert document_url(concluded, Document.Kind.CERTIFICATE) in html
    assert document_url(concluded, Document.Kind.CUSTOMER_COPY) not in html
    assert clerk_client.get(document_url(concluded, Document.Kind.CUSTOMER_COPY)).status_code == 404

    registry.produce_documents(certificate=concluded.certificates.get())  # the worker's task

    page = clerk_client.get(reverse("certs:detail", args=[concluded.number]))
    text = text_of(page)
    assert "作成中" not in text and PENDING_NOTE not in text
    for kind in Document.Kind:
        assert document_url(concluded, kind) in page.content.decode()
        assert clerk_client.get(document_url(concluded, kind)).status_code == 200


def test_producing_again_stores_nothing_more(concluded):
    certificate = concluded.certificates.get()

    first = registry.produce_documents(certificate=certificate)
    again = registry.produce_documents(certificate=certificate)

    assert first == [Document.Kind.CUSTOMER_COPY, Document.Kind.FEE_STATEMENT]
    assert again == []
    assert certificate.documents.count() == 3
