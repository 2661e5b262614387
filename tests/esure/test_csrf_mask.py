"""esure.csrf.get_token: the token a page carries is Django's — the cookie's secret masked
anew for each response with a mask of 32 characters of Django's 62 — and Django's own
middleware accepts it (decision 0054)."""

import re
from collections import Counter

from django.middleware import csrf as django_csrf
from django.test import Client, RequestFactory
from django.urls import reverse

from esure import csrf


def with_secret():
    request = RequestFactory().get("/")
    django_csrf.get_token(request)  # a new secret, as Django makes it
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
    return request


def test_the_token_is_the_secret_masked_as_django_masks_it():
    request = with_secret()

    token = csrf.get_token(request)

    assert len(token) == django_csrf.CSRF_TOKEN_LENGTH
    assert set(token) <= set(django_csrf.CSRF_ALLOWED_CHARS)
    assert django_csrf._unmask_cipher_token(token) == request.META["CSRF_COOKIE"]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"]  # the cookie is renewed, as Django does


def test_each_token_has_a_new_mask():
    request = with_secret()

    tokens = {csrf.get_token(request) for _ in range(50)}

    assert len(tokens) == 50
    assert len({token[: django_csrf.CSRF_SECRET_LENGTH] for token in tokens}) == 50


def test_every_character_can_be_drawn_for_the_mask():
    request = with_secret()

    drawn = Counter()
    for _ in range(200):
        drawn.update(csrf.get_token(request)[: django_csrf.CSRF_SECRET_LENGTH])

    # 6,400 draws over 62 characters: each ~103 times; a character never drawn, or drawn
    # more than twice as often as the mean, would be a biased mask.
    assert set(drawn) == set(django_csrf.CSRF_ALLOWED_CHARS)
    assert max(drawn.values()) < 2 * 6400 / 62


def test_a_request_without_a_secret_gets_djangos_own():
    request = RequestFactory().get("/")

    token = csrf.get_token(request)

    assert django_csrf._unmask_cipher_token(token) == request.META["CSRF_COOKIE"]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"]


def test_a_template_pages_token_is_made_here_and_posts(db, monkeypatch):
    masks = []
    draw = csrf._mask_indices
    monkeypatch.setattr(csrf, "_mask_indices", lambda n: masks.append(n) or draw(n))
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("dsure:lookup"))  # the first visit: Django makes the secret

    page = browser.get(reverse("dsure:lookup")).content.decode()

    assert masks  # {% csrf_token %} through esure.context_processors.csrf
    [token] = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    altered = token[:-1] + ("1" if token.endswith("0") else "0")
    refused = browser.post(reverse("dsure:lookup"), {"csrfmiddlewaretoken": altered})
    accepted = browser.post(reverse("dsure:lookup"), {"csrfmiddlewaretoken": token})
    assert refused.status_code == 403
    assert accepted.status_code == 200
