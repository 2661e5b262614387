"""Security headers and cookies on real responses, with HTTPS on as in production and off as
in the local demo and this suite.

The production values are not copied here: a fresh interpreter reads esure/settings.py twice,
with ESURE_HTTPS on and off, and every setting that differs is applied to this process. So
the tests see exactly what one environment variable switches on.
"""

import json
import re

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.conftest import PASSWORD, make_member, make_staff
from tests.test_settings import SECRETS, run_python

PRINT_ALL_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
values = {}
for name in dir(settings):
    if name.isupper():
        try:
            values[name] = json.loads(json.dumps(getattr(settings, name)))
        except TypeError:
            pass  # not JSON (paths, callables): not switched by ESURE_HTTPS either
print(json.dumps(values))
"""
HTTPS_ENV = {"ESURE_HTTPS": "true", "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https"}
ONE_YEAR = 31_536_000


def _settings_with(**env):
    result = run_python(PRINT_ALL_SETTINGS, DEBUG="false", **SECRETS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def https_settings():
    """The settings that ESURE_HTTPS (and the proxy header) change, as production has them."""
    on, off = _settings_with(**HTTPS_ENV), _settings_with()
    changed = {name: value for name, value in on.items() if off.get(name) != value}
    changed["SECURE_PROXY_SSL_HEADER"] = tuple(changed["SECURE_PROXY_SSL_HEADER"])
    return changed


@pytest.fixture
def https(settings, https_settings):
    for name, value in https_settings.items():
        setattr(settings, name, value)
    return settings


def test_the_switch_changes_what_it_should(https_settings):
    assert set(https_settings) == {
        "ESURE_HTTPS",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_NAME",
        "CSRF_COOKIE_NAME",
    }


# What every HTML page must carry ----------------------------------------------------------


def csp(response):
    """The Content-Security-Policy header as {directive: [values]}."""
    directives = [d.split() for d in response["Content-Security-Policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>")
STYLE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^>]*\sstyle=")
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=")
JAVASCRIPT_URL = re.compile(r"""=\s*["']\s*javascript:""", re.I)
STYLE_WITHOUT_NONCE = re.compile(r"<style\b(?![^>]*\snonce=)[^>]*>")
NONCE_ATTRIBUTE = re.compile(r'\snonce="([^"]+)"')


def assert_locked_down_html(response, *, hsts=True):
    url = response.wsgi_request.path
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("text/html"), url
    if hsts:
        expected = f"max-age={ONE_YEAR}; includeSubDomains; preload"
        assert response["Strict-Transport-Security"] == expected
    else:
        assert "Strict-Transport-Security" not in response
    policy = csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"], url
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] in (["'none'"], ["'self'"])
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    # same-origin or stricter (D-Sure and the certificate pages set their own).
    assert response["Referrer-Policy"] in ("same-origin", "no-referrer"), url
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    # The policy forbids inline code, so a page with any would be broken in the browser.
    html = response.content.decode()
    assert INLINE_SCRIPT.findall(html) == [], url
    assert STYLE_ATTRIBUTE.findall(html) == [], url
    assert EVENT_HANDLER.findall(html) == [], url
    assert JAVASCRIPT_URL.findall(html) == [], url
    assert STYLE_WITHOUT_NONCE.findall(html) == [], url
    # Every nonce in the page is the one the header allows (the admin's inline <style>).
    nonces = set(NONCE_ATTRIBUTE.findall(html))
    for nonce in nonces:
        assert f"'nonce-{nonce}'" in policy["style-src"], url
    assert len(nonces) <= 1, url


def get(client, url):
    return client.get(url, secure=True)


def test_public_pages(client, db, https):
    for name in ("home", "account_login", "account_signup", "account_reset_password"):
        assert_locked_down_html(get(client, reverse(name)))


def test_dsure_keeps_its_own_headers(client, db, https):
    response = get(client, reverse("dsure:lookup"))
    assert_locked_down_html(response)
    assert response["Cache-Control"] == "no-store"


def test_a_contractors_pages(client, db, https):
    client.force_login(make_member())
    for name in ("home", "applications:index", "accounts:company", "account_email"):
        assert_locked_down_html(get(client, reverse(name)))


def _admin_pages():
    """Every model's change list and add form, and the index."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    return urls


def test_the_admin_under_the_policy(client, db, https):
    client.force_login(make_staff())
    checked = 0
    for url in _admin_pages():
        response = get(client, url)
        if response.status_code == 403:  # an add form the admin does not offer
            continue
        assert_locked_down_html(response)
        checked += 1
    assert checked > len(admin.site._registry)
    # allauth's MFA pages, where staff manage their TOTP.
    assert_locked_down_html(get(client, reverse("mfa_index")))


def test_totp_qr_code_is_an_allowed_image(client, db, https):
    # allauth shows the TOTP secret as a data: SVG image.
    assert "data:" in csp(get(client, reverse("home")))["img-src"]


# Cookies -----------------------------------------------------------------------------------


def _cookie(response, name):
    assert name in response.cookies, sorted(response.cookies)
    return response.cookies[name]


def test_csrf_cookie_is_a_host_cookie(client, db, https):
    cookie = _cookie(get(client, reverse("account_login")), "__Host-csrftoken")
    assert cookie["secure"] is True
    assert cookie["path"] == "/"
    assert cookie["domain"] == ""  # __Host- cookies must not name a domain
    assert cookie["samesite"] == "Lax"


def test_session_cookie_is_a_secure_httponly_host_cookie(client, db, https):
    clerk = make_member()
    response = client.post(
        reverse("account_login"), {"login": clerk.email, "password": PASSWORD}, secure=True
    )
    assert response.status_code == 302
    cookie = _cookie(response, "__Host-sessionid")
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["path"] == "/"
    assert cookie["domain"] == ""
    assert cookie["samesite"] == "Lax"
    assert "sessionid" not in response.cookies
    # The session works under its new name.
    assert get(client, reverse("applications:index")).status_code == 200


# https redirect, behind a TLS-terminating load balancer -----------------------------------


def test_plain_http_is_redirected_to_https(client, db, https):
    response = client.get("/accounts/login/?next=/applications/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/?next=/applications/"


def test_the_load_balancers_header_counts_as_https(client, db, https):
    response = client.get(reverse("home"), headers={"X-Forwarded-Proto": "https"})
    assert_locked_down_html(response)
    response = client.get(reverse("home"), headers={"X-Forwarded-Proto": "http"})
    assert response.status_code == 301


def test_health_probes_over_plain_http_are_not_redirected(client, db, https):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


# With HTTPS off: the local demo and this suite ----------------------------------------------


def test_over_plain_http_the_policy_holds_without_https_only_parts(client, db, settings):
    assert settings.ESURE_HTTPS is False
    response = client.get(reverse("account_login"))
    assert_locked_down_html(response, hsts=False)
    cookie = _cookie(response, "csrftoken")
    assert not cookie["secure"]  # a Secure cookie would never come back over http
