"""The contractor reads the claims on its guarantees (status, amounts, every step) and can do
nothing with them; another company's claim is a 404."""

import pytest
from django.urls import reverse

from claims.models import Claim
from tests.claims.conftest import file, move_to

S = Claim.Status
pytestmark = pytest.mark.django_db


def test_the_contractor_follows_every_step(client_for, clerk, guarantee, office_user, reviewer):
    claim = move_to(file(guarantee, office_user), S.PAID, reviewer)
    browser = client_for(clerk)
    listing = browser.get(reverse("claims:index")).content.decode()
    assert reverse("claims:detail", args=[claim.pk]) in listing
    assert "支払済" in listing
    page = browser.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    for text in ["受付（審査中）", "支払決定", "支払済", "2,900,000円", "請求できる額 2,900,000円"]:
        assert text in page, text
    # Read only: no form, no documents (they are the orderer's and the surety's).
    assert "<form" not in page.split("</header>", 1)[1].replace('action="/accounts/logout/"', "")
    assert reverse("claims:attachment", args=[claim.pk, claim.attachments.first().pk]) not in page


def test_the_request_for_documents_and_a_refusal_are_shown_with_their_words(
    client_for, clerk, guarantee, office_user, reviewer
):
    claim = move_to(file(guarantee, office_user), S.MORE_DOCUMENTS_REQUESTED, reviewer)
    url = reverse("claims:detail", args=[claim.pk])
    assert "登記事項証明書を" in client_for(clerk).get(url).content.decode()


def test_another_company_gets_404(client_for, other_clerk, guarantee, office_user):
    claim = file(guarantee, office_user)
    browser = client_for(other_clerk)
    assert browser.get(reverse("claims:detail", args=[claim.pk])).status_code == 404
    assert not browser.get(reverse("claims:index")).context["claims"]


def test_the_contractor_cannot_download_the_documents(client_for, clerk, guarantee, office_user):
    claim = file(guarantee, office_user)
    url = reverse("claims:attachment", args=[claim.pk, claim.attachments.first().pk])
    assert client_for(clerk).get(url).status_code == 403
