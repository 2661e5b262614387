"""Both long lists — 電子証書の確認 (/certificates/) and menu 4 (/applications/) — show
PER_PAGE rows at a time, newest first, with page links that keep the filters."""

import pytest
from django.urls import reverse

from certificates.models import Guarantee
from esure.pagination import PER_PAGE
from tests.certificates.test_contractor_certificates import bulk_guarantees
from tests.conftest import (
    listed_applications,
    listed_numbers,
    make_applications_bulk,
    page_shown,
)

CERTS = reverse("certs:index")
MENU4 = reverse("applications:index")


@pytest.fixture
def company(clerk):
    return clerk.membership.company


def numbers(response):
    return listed_numbers(response)


def pages_of(response):
    shown = page_shown(response)
    return shown[4] if shown else 1


@pytest.mark.parametrize(
    ("count", "pages"),
    [(PER_PAGE - 1, 1), (PER_PAGE, 1), (PER_PAGE + 1, 2)],
)
def test_a_second_page_appears_only_past_one_page_of_guarantees(
    clerk_client, company, tsukumi, count, pages
):
    bulk_guarantees(company, count, orderer=tsukumi, first_serial=1)

    response = clerk_client.get(CERTS)

    assert pages_of(response) == pages
    assert len(numbers(response)) == min(count, PER_PAGE)
    assert ('rel="next"' in response.content.decode()) is (pages > 1)


def test_the_pages_cover_every_guarantee_once_in_order(clerk_client, company, tsukumi):
    bulk_guarantees(company, 2 * PER_PAGE + 5, orderer=tsukumi, first_serial=1)

    seen = []
    for page in (1, 2, 3):
        seen += numbers(clerk_client.get(CERTS, {"page": page}))

    newest_first = Guarantee.objects.filter(company=company).order_by("-concluded_at", "-pk")
    expected = list(newest_first.values_list("number", flat=True))
    assert seen == expected
    last = clerk_client.get(CERTS, {"page": 3}).content.decode()
    assert f"全{2 * PER_PAGE + 5}件中 {2 * PER_PAGE + 1}〜{2 * PER_PAGE + 5}件を表示" in last


# "9" * 30: past a bigint's OFFSET (the page and its count are one statement, esure.pagination).
@pytest.mark.parametrize(
    ("asked", "shown"),
    [("-1", 1), ("0", 1), ("2", 2), ("3", 2), ("999", 2), ("9" * 30, 2), ("abc", 1)],
)
def test_a_page_number_out_of_range_shows_the_nearest_page(
    clerk_client, company, tsukumi, asked, shown
):
    bulk_guarantees(company, PER_PAGE + 1, orderer=tsukumi, first_serial=1)

    response = clerk_client.get(CERTS, {"page": asked})

    assert response.status_code == 200
    assert page_shown(response)[3] == shown


def test_menu4_second_page_link_carries_the_filter(clerk_client, clerk, company, tsukumi):
    make_applications_bulk(company, PER_PAGE + 3, orderer=tsukumi, by=clerk, statuses=("draft",))

    html = clerk_client.get(MENU4, {"status": "draft"}).content.decode()

    assert 'href="?status=draft&amp;page=2"' in html
    second = clerk_client.get(MENU4, {"status": "draft", "page": 2})
    assert len(listed_applications(second)) == 3
