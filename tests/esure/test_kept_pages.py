"""esure.kept: pages kept per process — rendered once per key, at most `size` of them with the
least recently served dropped first, and each response's own values and CSRF token put in."""

import threading

import pytest
from django.middleware.csrf import CsrfViewMiddleware
from django.test import RequestFactory

from esure import kept

TEMPLATE = "dsure/lookup.html"  # any page with a form ({% csrf_token %}) and a typed number
NUMBER = kept.slot("number")


@pytest.fixture
def request_():
    return RequestFactory().get("/")


def filled(pages, key, request, made=None):
    def context():
        if made is not None:
            made.append(key)
        return {"number": NUMBER, "error": f"error {key}"}

    return pages.render(key, request, TEMPLATE, context)


def test_a_page_is_rendered_once_per_key(db, request_):
    pages, made = kept.KeptPages(size=4), []

    first = filled(pages, "a", request_, made)
    again = filled(pages, "a", request_, made)
    other = filled(pages, "b", request_, made)

    assert made == ["a", "b"]  # the context is built only for a page not kept
    assert again is first
    assert "error a" in first and "error b" in other
    assert kept.CSRF_SLOT in first and NUMBER in first


@pytest.mark.parametrize(("keys", "kept_keys"), [(3, "abc"), (4, "abcd"), (5, "bcde")])
def test_at_most_size_pages_are_kept(db, request_, keys, kept_keys):
    pages = kept.KeptPages(size=4)

    for key in "abcde"[:keys]:
        filled(pages, key, request_)

    assert len(pages) == len(kept_keys)
    made = []
    for key in kept_keys:
        filled(pages, key, request_, made)
    assert made == []  # each still kept


def test_the_least_recently_served_page_goes_first(db, request_):
    pages = kept.KeptPages(size=2)
    filled(pages, "a", request_)
    filled(pages, "b", request_)

    filled(pages, "a", request_)  # served again: "b" is now the oldest
    filled(pages, "c", request_)

    made = []
    filled(pages, "a", request_, made)
    filled(pages, "b", request_, made)
    assert made == ["b"]


def test_clear_empties_the_pages(db, request_):
    pages = kept.KeptPages(size=2)
    filled(pages, "a", request_)

    pages.clear()

    assert len(pages) == 0


def test_threads_share_the_pages_without_exceeding_the_size(db, request_):
    pages, failures = kept.KeptPages(size=8), []

    def serve(start):
        try:
            for i in range(200):
                filled(pages, (start + i) % 20, request_)
        except Exception as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=serve, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(pages) == 8


def test_respond_puts_in_the_values_and_a_working_csrf_token(db, request_):
    page = filled(kept.KeptPages(size=1), "a", request_)
    request = RequestFactory().get("/")

    response = kept.respond(request, page, {NUMBER: "08-1-0000001-8"})

    html = response.content.decode()
    assert response.status_code == 200
    assert kept.CSRF_SLOT not in html and NUMBER not in html
    assert 'value="08-1-0000001-8"' in html
    token = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    # The token is the request's own: the CSRF middleware accepts a POST carrying it with the
    # cookie the response sets.
    cookie = request.META["CSRF_COOKIE"]
    post = RequestFactory().post("/", {"csrfmiddlewaretoken": token})
    post.COOKIES["csrftoken"] = cookie
    post._dont_enforce_csrf_checks = False
    middleware = CsrfViewMiddleware(lambda r: None)
    assert middleware.process_view(post, lambda r: None, (), {}) is None


def test_slots_are_random():
    assert kept.slot("x") != kept.slot("x")
    assert kept.slot("x").startswith("x") and len(kept.slot("x")) == 33
