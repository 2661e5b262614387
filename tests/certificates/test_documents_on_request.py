"""A conclusion's お客様控え and 保証料計算書 before the worker has produced them (decisions
0033, 0052): the contractor's page links all three PDFs at once, and the first download of a
copy makes it — exactly once, signed and stored like the worker's — so nothing is ever
作成中. When it cannot be made (the seal or the store is down) the clerk is back on the page
with the reason, and nothing is stored."""

import re

import pytest
from django.urls import reverse

from certificates import seal
from certificates import services as registry
from certificates.models import Document
from certs.views import MSG_DOCUMENT_UNAVAILABLE
from esure.choices import GuaranteeKind
from tests.conftest import MAX_ADVANCE, WORK_DATES, make_concluded

pytestmark = pytest.mark.usefixtures("frozen", "media")


def conclude_before_the_worker(clerk, tsukumi):
    """A guarantee as its conclusion commits, before the worker has run: make_concluded
    leaves the copies to the worker."""
    [guarantee] = make_concluded(
        company=clerk.membership.company,
        orderer=tsukumi,
        items={GuaranteeKind.ADVANCE: MAX_ADVANCE},
        **WORK_DATES,
    )
    return guarantee


@pytest.fixture
def concluded(clerk, tsukumi):
    return conclude_before_the_worker(clerk, tsukumi)


def text_of(response):
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", response.content.decode()))


def document_url(guarantee, kind, version=1):
    return reverse("certs:document", args=[guarantee.number, version, kind])


def kinds_stored(guarantee):
    return sorted(
        Document.objects.filter(certificate__guarantee=guarantee).values_list("kind", flat=True)
    )


def test_the_page_links_all_three_before_the_worker_has_run(clerk_client, concluded):
    assert kinds_stored(concluded) == [Document.Kind.CERTIFICATE]

    page = clerk_client.get(reverse("certs:detail", args=[concluded.number]))

    assert page.status_code == 200
    text = text_of(page)
    assert "作成中" not in text
    assert "保証証書PDF" in text and "お客様控えPDF" in text and "保証料計算書PDF" in text
    assert "当初" in text and "保証証書・お客様控え・保証料計算書" in text
    for kind in Document.Kind:
        assert document_url(concluded, kind) in page.content.decode()


def test_the_first_download_makes_the_copy_once_and_the_worker_then_skips_it(
    clerk_client, concluded
):
    first = clerk_client.get(document_url(concluded, Document.Kind.CUSTOMER_COPY))

    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    body = b"".join(first.streaming_content)
    assert body.startswith(b"%PDF") and b"/ByteRange" in body  # signed with the eシール
    # Only the kind asked for is made: the 保証料計算書 waits for its own download or the worker.
    assert kinds_stored(concluded) == [Document.Kind.CERTIFICATE, Document.Kind.CUSTOMER_COPY]

    again = clerk_client.get(document_url(concluded, Document.Kind.CUSTOMER_COPY))
    assert b"".join(again.streaming_content) == body  # the stored original, not a new one

    certificate = concluded.certificates.get()
    assert registry.produce_documents(certificate=certificate) == [Document.Kind.FEE_STATEMENT]
    assert certificate.documents.count() == 3


def test_producing_again_stores_nothing_more(concluded):
    certificate = concluded.certificates.get()

    first = registry.produce_documents(certificate=certificate)
    again = registry.produce_documents(certificate=certificate)

    assert first == [Document.Kind.CUSTOMER_COPY, Document.Kind.FEE_STATEMENT]
    assert again == []
    assert certificate.documents.count() == 3


def test_produce_documents_makes_only_the_after_commit_kinds_asked_for(concluded):
    certificate = concluded.certificates.get()

    assert (
        registry.produce_documents(certificate=certificate, kinds=[Document.Kind.CERTIFICATE]) == []
    )  # stored in the conclusion, never made again here
    assert registry.produce_documents(
        certificate=certificate, kinds=[Document.Kind.FEE_STATEMENT]
    ) == [Document.Kind.FEE_STATEMENT]
    assert certificate.documents.count() == 2


def test_a_copy_that_cannot_be_made_now_leaves_nothing_and_says_why(
    clerk_client, concluded, media, monkeypatch
):
    def seal_down(data, **kwargs):
        raise seal.SealError("the TSA did not answer")

    monkeypatch.setattr(seal, "sign_pdf", seal_down)

    response = clerk_client.get(document_url(concluded, Document.Kind.FEE_STATEMENT), follow=True)

    assert response.redirect_chain == [(reverse("certs:detail", args=[concluded.number]), 302)]
    assert MSG_DOCUMENT_UNAVAILABLE.format(label="保証料計算書") in response.content.decode()
    assert kinds_stored(concluded) == [Document.Kind.CERTIFICATE]
    assert sorted(p.name for p in media.rglob("*.pdf")) == [
        f"{concluded.number}-v1-certificate.pdf"
    ]

    monkeypatch.undo()
    assert clerk_client.get(document_url(concluded, Document.Kind.FEE_STATEMENT)).status_code == 200
    assert len(kinds_stored(concluded)) == 2


def test_another_companys_copy_is_a_404_and_nothing_is_made(client, other_clerk, concluded):
    from tests.conftest import log_in

    response = log_in(client, other_clerk).get(document_url(concluded, Document.Kind.CUSTOMER_COPY))

    assert response.status_code == 404
    assert kinds_stored(concluded) == [Document.Kind.CERTIFICATE]


def test_a_version_the_guarantee_does_not_have_is_a_404(clerk_client, concluded):
    response = clerk_client.get(document_url(concluded, Document.Kind.CUSTOMER_COPY, version=2))

    assert response.status_code == 404
    assert kinds_stored(concluded) == [Document.Kind.CERTIFICATE]


def test_anonymous_is_sent_to_log_in_and_nothing_is_made(client, concluded):
    response = client.get(document_url(concluded, Document.Kind.CUSTOMER_COPY))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert kinds_stored(concluded) == [Document.Kind.CERTIFICATE]


def test_a_post_is_refused_and_nothing_is_made(clerk_client, concluded):
    response = clerk_client.post(document_url(concluded, Document.Kind.CUSTOMER_COPY))

    assert response.status_code == 405
    assert kinds_stored(concluded) == [Document.Kind.CERTIFICATE]
