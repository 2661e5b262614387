"""The contractor's two lists (電子証書の確認, menu 4) keep the page around their rows per process
(decision 0058): each member still sees its own header, rows, filter and page links, a change
to what the header shows appears at once, a message is shown once, and the page's CSRF token
is the request's own."""

import re

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import Company
from applications import views as menu4_views
from certs import views as certs_views
from tests.certificates.test_contractor_certificates import bulk_guarantees
from tests.conftest import listed_applications, listed_numbers, log_in, make_applications_bulk

LISTS = [reverse("certs:index"), reverse("applications:index")]


@pytest.fixture(autouse=True)
def _no_kept_pages():
    """Each test starts with no page kept (another test may have kept one for the same ids)."""
    for pages in (certs_views._pages, menu4_views._pages):
        pages.clear()


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
