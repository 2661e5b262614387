"""Every URL in the URLconf needs a login, unless it is listed as public here.

The walk covers the whole URLconf, so a view added without protection fails this test until
it is protected or deliberately added to PUBLIC.
"""

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path, resolve, reverse
from django.urls.resolvers import RoutePattern

# Pages anyone may open (by URL name). Each is a deliberate choice.
PUBLIC = {
    "home",  # the landing page for visitors
    # Load balancers' probes: no session, no data, only "ok" or the names of the checks.
    "healthz",
    "readyz",
    "metrics",  # only ESURE_READYZ_ALLOW addresses (tests/esure/test_metrics.py)
    # allauth: logging in and signing up, and what they need before a session exists
    "account_login",
    "account_logout",  # harmless without a session: back to HOME
    "account_signup",
    "account_inactive",
    "account_email_verification_sent",
    "account_confirm_email",  # the link in the verification mail (its key is the secret)
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",  # the link in the reset mail (its key is the secret)
    "account_reset_password_from_key_done",
    # D-Sure: city staff have no account. The viewer pages answer 404 without the session
    # grant that a right number + key gives (tests/dsure prove the scope).
    "dsure:lookup",
    "dsure:end",
    "dsure:viewer",
    "dsure:version",
    "dsure:document",
    # 電子証書の検証: anyone checks a PDF or a printout's fingerprint, no key (decision 0016).
    "dsure:check",
    "dsure:check_fingerprint",
    # The orderers' API: its schema and docs page are public; its root answers nothing.
    "api:docs",
    "api_v1:openapi-json",
    "api_v1:api-root",
}
# The orderers' API authenticates by bearer token, not by login: without one, every
# operation answers 401 (problem+json). tests/api walk each with every kind of bad token.
TOKEN_AUTH = {
    "api_v1:receipt",
    "api_v1:return",
    "api_v1:verify",
    "api_v1:guarantees",
    "api_v1:guarantee",
    "api_v1:version",
    "api_v1:version_pdf",
}
# URL prefixes served without a view of ours (none are in the URLconf today).
PUBLIC_PREFIXES = ("/" + settings.STATIC_URL.strip("/") + "/",)

# A value for every converter and regex group in use: an object that does not exist.
SAMPLE = {
    "int": "1",
    "id": "1",  # esure.converters
    "number": "00000000000",  # a 保証契約番号 (11 digits) that is never issued
    "sha256": "0" * 64,  # a content fingerprint no version has
    "str": "1",
    "path": "1",
    "slug": "x",
    "uuid": "00000000-0000-0000-0000-000000000001",
    # regex groups (allauth's confirm and reset links, the admin's app index and catch-all)
    "key": "not-a-key",
    "uidb36": "1",
    "app_label": "accounts",
    "url": "no-such-page/",
}


def _sample_route(pattern):
    text = str(pattern.pattern)
    if isinstance(pattern.pattern, RoutePattern):
        return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLE[m.group(1) or "str"], text)
    text = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", lambda m: SAMPLE[m.group(1)], text)
    return text.lstrip("^").rstrip("$").replace("\\", "")


def walk(patterns=None, prefix="/", namespace=""):
    """(sample path, full name) for every URLPattern, recursing through includes."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for pattern in patterns:
        here = prefix + _sample_route(pattern)
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or ""
            inner = f"{namespace}:{ns}".strip(":") if ns else namespace
            yield from walk(pattern.url_patterns, here, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}".strip(":") if pattern.name else None
            yield here, name, pattern


def _is_login(url):
    return urlsplit(url).path == reverse("account_login")


def login_redirect(client, url):
    """Whether an anonymous request ends at allauth's login page (following our redirects).

    POST-only views answer GET with 405: then the POST must be the one sent to login.
    """
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    for _ in range(4):
        if response.status_code not in (301, 302):
            return False
        location = response["Location"]
        if _is_login(location):
            return True
        response = client.get(location)
    return False


ROUTES = list(walk())


def _id(route):
    return route[1] or route[0]


def test_the_walk_sees_the_whole_urlconf():
    names = {name for _, name, _ in ROUTES}
    assert {"home", "accounts:company", "accounts:accept_invitation", "admin:index"} <= names
    assert "admin:accounts_company_changelist" in names
    assert len(ROUTES) > 50


@pytest.mark.parametrize("route", ROUTES, ids=_id)
def test_sample_path_resolves_to_its_own_view(route):
    url, _, pattern = route
    assert resolve(url).func == pattern.callback


@pytest.mark.parametrize("route", [r for r in ROUTES if r[1] not in PUBLIC | TOKEN_AUTH], ids=_id)
def test_anonymous_is_sent_to_login(client, db, route):
    url, name, _ = route
    assert not url.startswith(PUBLIC_PREFIXES)
    assert login_redirect(client, url), f"{url} ({name}) answers an anonymous visitor"


@pytest.mark.parametrize("route", [r for r in ROUTES if r[1] in PUBLIC], ids=_id)
def test_public_pages_answer_without_error(client, db, route):
    url, _, _ = route
    # Public pages either show themselves or (for a made-up key) say so; never a server error.
    # A POST-only public action (D-Sure's 閲覧を終了) answers a GET with 405.
    assert client.get(url).status_code in (200, 302, 404, 405)


def test_every_public_name_exists():
    # A typo or a renamed allauth URL must not silently widen or narrow the list.
    missing = (PUBLIC | TOKEN_AUTH) - {name for _, name, _ in ROUTES}
    assert not missing


@pytest.mark.parametrize("route", [r for r in ROUTES if r[1] in TOKEN_AUTH], ids=_id)
def test_api_operations_answer_401_without_a_token(client, db, route):
    url, _, pattern = route
    methods = ("post",) if pattern.name in {"verify", "receipt", "return"} else ("get",)
    for method in methods:
        response = getattr(client, method)(url)
        assert response.status_code == 401, url
        assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "route",
    [r for r in ROUTES if r[0].startswith("/" + settings.ESURE_ADMIN_PATH)],
    ids=_id,
)
def test_admin_pages_end_at_allauths_login_not_admins(client, db, route):
    url, _, _ = route
    seen = []
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    while response.status_code in (301, 302) and len(seen) < 4:
        seen.append(response["Location"])
        if _is_login(seen[-1]):
            break
        response = client.get(seen[-1])
    assert seen, url
    assert _is_login(seen[-1]), seen
    # The admin's own login page is never rendered (it would take a password without MFA).
    assert b'name="username"' not in response.content


def test_a_logged_in_clerk_gets_no_admin_page(clerk_client):
    for url, _, _ in ROUTES:
        if url.startswith("/" + settings.ESURE_ADMIN_PATH):
            response = clerk_client.get(url, follow=True)
            assert response.status_code in (403, 404, 405), url


# The walk itself: it must catch an unprotected view --------------------------------------


def _leaky_view(request, pk):
    return HttpResponse("secret")


urlpatterns = [path("leak/<int:pk>/", _leaky_view, name="leak"), *get_resolver().url_patterns]


@pytest.mark.urls(__name__)
def test_the_check_catches_an_unprotected_view(db):
    leaks = [
        url
        for url, name, _ in walk(get_resolver(__name__).url_patterns)
        if name not in PUBLIC | TOKEN_AUTH and not login_redirect(Client(), url)
    ]
    assert leaks == ["/leak/1/"]
