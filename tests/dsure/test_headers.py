"""Every D-Sure response is never cached, never referred and never indexed (DESIGN.md §6,
docs/decisions/0004): Cache-Control: no-store, Referrer-Policy: no-referrer, X-Robots-Tag:
noindex — pages, files, redirects and refusals alike, for a shared city PC and its proxy."""

import pytest
from django.test import Client
from django.urls import reverse
from django.views.debug import SafeExceptionReporterFilter

from certificates import services as registry
from certificates.numbering import make_number
from esure.choices import GuaranteeKind
from tests.conftest import (
    advance_office,
    dsure_lookup,
    make_office_user,
    make_user,
)

UNKNOWN = make_number(8, GuaranteeKind.ADVANCE, 9_999_999)
# Policies under which no other site ever receives a D-Sure URL as Referer. DESIGN.md §6
# names no-referrer; dsure/views.py sends same-origin, because under no-referrer a browser
# sends "Origin: null" with the page's own form POSTs, which Django's CSRF check refuses.
NO_REFERRER_ELSEWHERE = {"no-referrer", "same-origin"}


@pytest.fixture
def official(tsukumi):
    """A 土木課 official with an office account."""
    return make_office_user(advance_office(tsukumi), email="doboku@city.tsukumi.example.jp")


def missing_headers(response):
    """The private-page headers this response lacks (empty: all there)."""
    missing = []
    if response.get("Cache-Control") != "no-store":
        missing.append(f"Cache-Control: {response.get('Cache-Control')}")
    if response.get("Referrer-Policy") not in NO_REFERRER_ELSEWHERE:
        missing.append(f"Referrer-Policy: {response.get('Referrer-Policy')}")
    if "noindex" not in response.get("X-Robots-Tag", ""):
        missing.append(f"X-Robots-Tag: {response.get('X-Robots-Tag')}")
    return missing


def assert_private(answers):
    """answers: {what: response}; every one carries the three headers."""
    lacking = {what: missing_headers(r) for what, r in answers.items() if missing_headers(r)}
    assert not lacking


def test_pages_files_and_redirects_carry_the_headers(guarantee, official):
    number, key = guarantee.number, registry.current_key(guarantee)
    browser = Client()
    browser.force_login(official)
    answers = {
        "lookup GET": browser.get(reverse("dsure:lookup")),
        "lookup POST, wrong key": dsure_lookup(browser, number, "ABCD-EFGH-JKMN-PQRS"),
        "lookup POST, typing hint": dsure_lookup(browser, "12345", key),
        "lookup POST, right key": dsure_lookup(browser, number, key),
        "viewer": browser.get(reverse("dsure:viewer", args=[number])),
        "version": browser.get(reverse("dsure:version", args=[number, 1])),
        "PDF": browser.get(reverse("dsure:document", args=[number, 1])),
        "inbox": browser.get(reverse("dsure:inbox")),
        "receive": browser.post(reverse("dsure:receive", args=[number, 1])),
        "end": browser.post(reverse("dsure:end")),
    }
    expected = {"lookup POST, right key": 302, "receive": 302, "end": 302}
    answers["inbox, anonymous (to the login)"] = Client().get(reverse("dsure:inbox"))
    expected |= {"inbox, anonymous (to the login)": 302}
    for what, response in answers.items():
        assert response.status_code == expected.get(what, 200), what
    assert_private(answers)


def test_not_found_answers_from_the_viewer_carry_the_headers(guarantee, official):
    """Without a grant the viewer answers 404 — the most common D-Sure answer to a stranger,
    and the one a shared proxy would keep."""
    number = guarantee.number
    browser = Client()
    answers = {
        "viewer": browser.get(reverse("dsure:viewer", args=[number])),
        "version": browser.get(reverse("dsure:version", args=[number, 1])),
        "PDF": browser.get(reverse("dsure:document", args=[number, 1])),
        "viewer, unknown number": browser.get(reverse("dsure:viewer", args=[UNKNOWN])),
    }
    browser.force_login(official)  # an office user, not granted, receiving
    answers["receive"] = browser.post(reverse("dsure:receive", args=[number, 1]))
    for what, response in answers.items():
        assert response.status_code == 404, what
    assert_private(answers)


def test_refusals_carry_the_headers(db):
    stranger = Client()
    stranger.force_login(make_user())  # logged in, but no office account
    answers = {
        "end, GET": Client().get(reverse("dsure:end")),
        "receive, GET": stranger.get(reverse("dsure:receive", args=[UNKNOWN, 1])),
        "inbox, not an office user": stranger.get(reverse("dsure:inbox")),
    }
    statuses = {what: r.status_code for what, r in answers.items()}
    assert statuses == {"end, GET": 405, "receive, GET": 405, "inbox, not an office user": 403}
    assert_private(answers)


def test_the_key_is_hidden_from_error_reports(client, guarantee):
    """sensitive_post_parameters("key"): a crash report (AdminEmailHandler, the debug page)
    shows the number but never the typed key."""
    key = registry.current_key(guarantee)

    response = dsure_lookup(client, guarantee.number_display, key)

    shown = SafeExceptionReporterFilter().get_post_parameters(response.wsgi_request)
    assert shown["number"] == guarantee.number_display
    assert shown["key"] != key and set(shown["key"]) == {"*"}
