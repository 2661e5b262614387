"""The contractor's two lists (電子証書の確認, menu 4) keep the page around their rows per process
(decision 0058): each member still sees its own header, rows, filter and page links, a change
to what the header shows appears at once, a message is shown once, and the page's CSRF token
is the request's own. Each row's markup is kept under the values it shows (decision 0059):
made once for the same row, made again when anything it shows changes."""

import datetime
import re

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import Company
from applications import views as menu4_views
from applications.models import Application
from certificates.models import Guarantee, Work
from certs import views as certs_views
from esure import kept, pagination
from tests.certificates.test_contractor_certificates import bulk_guarantees
from tests.conftest import listed_applications, listed_numbers, log_in, make_applications_bulk

LISTS = [reverse("certs:index"), reverse("applications:index")]


@pytest.fixture(autouse=True)
def _no_kept_pages():
    """Each test starts with no page kept (another test may have kept one for the same ids)."""
    for pages in (certs_views._pages, menu4_views._pages):
        pages.clear()
    for row_html in ROW_HTML:
        row_html.cache_clear()


ROW_HTML = [certs_views._row_html, menu4_views._row_html]


@pytest.fixture
def rows(clerk, other_clerk, tsukumi):
    for member, first in ((clerk, 1), (other_clerk, 500)):
        company = member.membership.company
        bulk_guarantees(company, 3, orderer=tsukumi, first_serial=first)
        make_applications_bulk(company, 2, orderer=tsukumi, by=member)


@pytest.mark.parametrize("path", LISTS)
def test_each_member_sees_its_own_header_and_rows_on_the_kept_page(
    clerk_client, clerk, other_clerk, rows, path
):
    other_client = log_in(Client(), other_clerk)

    pages = [(c, c.get(path)) for c in (clerk_client, other_client, clerk_client, other_client)]

    for browser, response in pages:
        html = response.content.decode()
        me, them = (clerk, other_clerk) if browser is clerk_client else (other_clerk, clerk)
        assert me.email in html and me.membership.company.name in html
        assert them.email not in html and them.membership.company.name not in html
    first, _, again, _ = (response for _, response in pages)
    assert again.templates == []  # kept: no template rendered the second time
    assert listed_numbers(first) == listed_numbers(again)
    assert listed_applications(first) == listed_applications(again)


@pytest.mark.parametrize("path", LISTS)
def test_a_renamed_company_and_a_new_address_show_at_once(clerk_client, clerk, rows, path):
    clerk_client.get(path)
    Company.objects.filter(pk=clerk.membership.company_id).update(name="新商号建設株式会社")
    type(clerk).objects.filter(pk=clerk.pk).update(email="new@acme.example.jp")

    html = clerk_client.get(path).content.decode()

    assert "新商号建設株式会社" in html and "ACME建設株式会社" not in html
    assert "new@acme.example.jp" in html


@pytest.mark.parametrize("path", LISTS)
def test_a_message_is_shown_once_then_the_kept_page_again(clerk_client, rows, path):
    clerk_client.get(path)  # the page is kept
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    storage.add(messages.SUCCESS, "保存しました。")
    response = HttpResponse()
    storage.update(response)
    clerk_client.cookies["messages"] = response.cookies["messages"].value

    shown = clerk_client.get(path).content.decode()
    after = clerk_client.get(path).content.decode()

    assert "保存しました。" in shown and "保存しました。" not in after
    assert shown.count("<tr>") == after.count("<tr>") > 1  # the rows on both


@pytest.mark.parametrize("path", LISTS)
def test_the_kept_pages_logout_form_carries_the_requests_own_working_token(clerk, rows, path):
    browser = log_in(Client(enforce_csrf_checks=True), clerk)
    browser.get(path)  # kept
    html = browser.get(path).content.decode()
    [token] = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)

    response = browser.post(reverse("account_logout"), {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert browser.get(path).status_code == 302  # logged out: sent to log in


def _tbody(response):
    return re.search(r"<tbody>.*</tbody>", response.content.decode(), re.S).group()


@pytest.mark.parametrize("path, row_html", list(zip(LISTS, ROW_HTML, strict=True)))
def test_each_row_is_made_once_for_the_values_it_shows(clerk_client, rows, path, row_html):
    first = clerk_client.get(path)
    made = row_html.cache_info()
    again = clerk_client.get(path)

    shown = row_html.cache_info()
    assert made.misses == made.currsize > 1  # one per row shown
    assert shown.misses == made.misses and shown.hits == made.hits + made.misses
    assert _tbody(again) == _tbody(first)


def test_a_renamed_work_or_a_cancelled_guarantee_shows_at_once(clerk_client, clerk, rows):
    path = reverse("certs:index")
    company = clerk.membership.company
    clerk_client.get(path)  # every row made and kept
    guarantee = Guarantee.objects.filter(company=company).order_by("pk").first()
    Work.objects.filter(pk=guarantee.work_id).update(name="改名後の<工事>")
    cancelled = Guarantee.objects.filter(company=company).order_by("pk").last()
    Guarantee.objects.filter(pk=cancelled.pk).update(cancelled_at=cancelled.concluded_at)

    html = clerk_client.get(path).content.decode()

    assert "改名後の&lt;工事&gt;" in html
    row = re.search(rf"{cancelled.number_display}.*?</tr>", html, re.S).group()
    assert "解約" in row and "有効" not in row


def test_an_application_with_a_new_status_or_work_name_shows_at_once(clerk_client, clerk, rows):
    path = reverse("applications:index")
    clerk_client.get(path)  # every row made and kept
    application = Application.objects.filter(company=clerk.membership.company).first()
    Work.objects.filter(pk=application.work_id).update(name="改名後の申込工事")
    Application.objects.filter(pk=application.pk).update(status=Application.Status.RETURNED)

    html = clerk_client.get(path).content.decode()

    row = re.search(rf'href="[^"]*/{application.pk}/".*?</tr>', html, re.S).group()
    assert "改名後の申込工事" in row
    assert f"badge--{Application.Status.RETURNED}" in row


NOW = datetime.datetime(2026, 12, 7, 1, 0, tzinfo=datetime.UTC)


def _certs_row(i):
    return (
        "/certificates/00000000000/",
        f"{i:011d}",
        "advance",
        "electronic",
        "工事",
        "市",
        i,
        "有効",
        NOW,
    )


def _menu4_row(i):
    return ("/applications/987654321/", i, "draft", "new", "市", "工事", None, "", NOW)


@pytest.mark.parametrize(
    ("made", "size", "arguments"),
    [
        (certs_views._row_html, kept.LIST_ROWS_KEPT, _certs_row),
        (menu4_views._row_html, kept.LIST_ROWS_KEPT, _menu4_row),
        (pagination._nav, pagination.NAV_CACHE_SIZE, lambda i: (f"status={i}", 2, 100, 20)),
    ],
    ids=["certs rows", "menu 4 rows", "page links"],
)
def test_a_process_keeps_at_most_its_bound_the_least_recently_used_out_first(made, size, arguments):
    made.cache_clear()
    for i in range(size - 1):
        made(*arguments(i))
    assert made.cache_info().currsize == size - 1  # just under: all kept
    made(*arguments(size - 1))
    assert made.cache_info().currsize == size  # at the bound: all kept
    hits = made.cache_info().hits
    made(*arguments(0))  # the first, used again: the second is now the least recent
    assert made.cache_info().hits == hits + 1

    made(*arguments(size))  # just over: one out
    assert made.cache_info().currsize == size
    misses = made.cache_info().misses
    made(*arguments(0))  # still kept
    made(*arguments(1))  # the one that went out: made again
    assert made.cache_info().misses == misses + 1
    made.cache_clear()


def test_each_list_keeps_at_most_list_pages_kept_pages():
    # KeptPages' own bound, least recently served out first: tests/esure/test_kept_pages.py.
    assert certs_views._pages.size == menu4_views._pages.size == kept.LIST_PAGES_KEPT
