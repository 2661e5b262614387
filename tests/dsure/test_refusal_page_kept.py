"""A refusal's page for a visitor without an account is kept per process for its message
(dsure.views._refusal_page): the same bytes as the page rendered afresh, with the typed
number (escaped) and the response's own working CSRF token put in — never the key, never
another visitor's number, and never for a logged-in user or a page with a message to show."""

import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client, RequestFactory, override_settings

from dsure import services, views
from dsure.models import AccessLog
from esure.kept import CSRF_SLOT
from tests.conftest import dsure_lookup

WRONG_KEY = "ABCD-EFGH-JKMN-PQRS"
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


def without_token(html):
    return CSRF_RE.sub('name="csrfmiddlewaretoken" value=""', html)


def refused(number, browser=None, **extra):
    response = dsure_lookup(browser or Client(), number, WRONG_KEY, **extra)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    return response.content.decode()


def afresh(number):
    views._refusals.clear()
    html = refused(number)
    views._refusals.clear()
    return html


@pytest.mark.parametrize(
    ("typed", "message"),
    [("number", services.MSG_NO_MATCH), ("08-1-<i>\"0\"</i> & '1'", services.MSG_NUMBER_FORMAT)],
)
def test_the_kept_page_is_the_page_rendered_afresh(guarantee, typed, message):
    number = guarantee.number_display if typed == "number" else typed
    fresh = afresh(number)

    first, kept = refused(number), refused(number)

    assert len(views._refusals) == 1
    assert without_token(first) == without_token(kept) == without_token(fresh)
    assert message in kept
    assert WRONG_KEY not in kept and WRONG_KEY.replace("-", "") not in kept
    assert CSRF_SLOT not in kept and views._NUMBER_SLOT not in kept


def test_a_typed_number_is_escaped_in_the_kept_page():
    refused("08-1-0000001-2")  # keeps the number format's page

    html = refused('<b>"08"</b>')

    assert 'value="&lt;b&gt;&quot;08&quot;&lt;/b&gt;"' in html
    assert "<b>" not in html


def test_each_visitor_sees_their_own_number(guarantee, tsukumi, clerk):
    other = "08-1-0000001-2"

    first, second = refused(guarantee.number_display), refused(other)

    assert f'value="{guarantee.number_display}"' in first and other not in first
    assert f'value="{other}"' in second and guarantee.number_display not in second


def test_each_response_carries_its_own_working_csrf_token(guarantee):
    browser = Client(enforce_csrf_checks=True)
    # The CSRF cookie and a token, as a browser has them from the entry page.
    token = CSRF_RE.search(browser.get("/dsure/").content.decode()).group(1)
    typed = {"number": guarantee.number_display, "key": WRONG_KEY}

    tokens = [token]
    for _ in range(3):
        page = browser.post("/dsure/", {**typed, "csrfmiddlewaretoken": tokens[-1]})
        assert page.status_code == 200  # the previous (kept) page's token is accepted
        assert services.MSG_NO_MATCH in page.content.decode()
        tokens.append(CSRF_RE.search(page.content.decode()).group(1))

    assert len(set(tokens)) == 4  # masked anew each time, as Django's {% csrf_token %} does
    assert AccessLog.objects.filter(number=guarantee.number).count() == 3


def test_each_message_has_its_own_page(guarantee):
    no_match = refused(guarantee.number_display)
    number_format = refused("08-1-0000001-2")

    assert services.MSG_NO_MATCH in no_match and services.MSG_NUMBER_FORMAT not in no_match
    assert (
        services.MSG_NUMBER_FORMAT in number_format and services.MSG_NO_MATCH not in number_format
    )
    assert len(views._refusals) == 2


def test_the_operator_s_name_is_part_of_the_kept_page(guarantee):
    refused(guarantee.number_display)

    with override_settings(ESURE_SURETY_NAME="別の保証会社"):
        html = refused(guarantee.number_display)

    assert "別の保証会社" in html


def test_a_logged_in_user_s_refusal_is_never_kept(guarantee, official_client):
    html = refused(guarantee.number_display, official_client)

    assert services.MSG_NO_MATCH in html
    assert "発注機関の方のログイン" not in html
    assert len(views._refusals) == 0


def test_a_refusal_with_a_message_to_show_is_never_kept(guarantee):
    browser = Client()
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    storage.add(constants.INFO, "閲覧を終了しました。")
    response = views.HttpResponse()
    storage.update(response)
    browser.cookies.load({storage.cookie_name: response.cookies[storage.cookie_name].value})

    html = refused(guarantee.number_display, browser)

    assert "閲覧を終了しました。" in html
    assert len(views._refusals) == 0
