"""The bench's floor views (bench/floors.py, issue 22) are bench-only: the production URLconf
has no route to them and no product module imports the bench; under the bench's URLconf
(bench/urls.py) each floor answers as its page does, with the least work (query counts)."""

import ast
import hashlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from bench import floors
from certificates import services as registry
from certificates.models import Document
from tests.conftest import WORK_DATES, make_concluded

ROOT = Path(django_settings.BASE_DIR)
FLOOR = "/bench-floor"


def callbacks(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from callbacks(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback


def test_the_production_urlconf_routes_to_no_floor(client):
    assert django_settings.ROOT_URLCONF == "esure.urls"
    modules = {getattr(view, "__module__", "") for view in callbacks(get_resolver().url_patterns)}
    assert "bench.floors" not in modules
    assert not [m for m in modules if m.startswith("bench")]
    for path in ("/bench-floor/dsure/", "/bench-floor/certificates/"):
        assert client.get(path).status_code == 404


def test_no_product_module_imports_the_bench():
    product = [p for p in ROOT.iterdir() if (p / "apps.py").exists() or p.name == "esure"]
    assert {p.name for p in product} >= {"esure", "dsure", "certificates"}
    importing = []
    for folder in product:
        for source in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                if any(name == "bench" or name.startswith("bench.") for name in names):
                    importing.append(str(source))
    assert importing == []


@pytest.fixture
def bench_urls(settings):
    settings.ROOT_URLCONF = "bench.urls"


@pytest.fixture
def guarantee(clerk, tsukumi):
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return guarantee


def looked_up(browser, guarantee, key=None):
    key = key or registry.current_key(guarantee)
    return browser.post(f"{FLOOR}/dsure/", {"number": guarantee.number, "key": key})


def count_queries(call):
    with CaptureQueriesContext(connection) as queries:
        response = call()
    return response, len(queries)


def test_the_lookup_floor_grants_with_one_read_and_one_insert(bench_urls, guarantee):
    browser = Client()
    response, queries = count_queries(lambda: looked_up(browser, guarantee))
    assert response.status_code == 302
    assert response["Location"] == f"{FLOOR}/dsure/{guarantee.number}/"
    assert floors.GRANT_COOKIE in response.cookies
    assert queries == 2  # the throttle state with the guarantee joined in; the log row

    wrong = Client()
    response, queries = count_queries(lambda: looked_up(wrong, guarantee, "Z" * 16))
    assert response.status_code == 200 and floors.NO_MATCH in response.content.decode()
    assert floors.GRANT_COOKIE not in response.cookies
    assert queries == 2


def test_the_viewer_and_pdf_floors_read_one_row_for_the_granted_guarantee_only(
    bench_urls, guarantee, clerk, staff
):
    browser = Client()
    assert looked_up(browser, guarantee).status_code == 302
    page, queries = count_queries(lambda: browser.get(f"{FLOOR}/dsure/{guarantee.number}/"))
    assert page.status_code == 200 and guarantee.number in page.content.decode()
    assert page["Cache-Control"] == "no-store"
    assert queries == 1
    pdf, queries = count_queries(lambda: browser.get(f"{FLOOR}/dsure/{guarantee.number}/v1.pdf"))
    assert pdf.status_code == 200 and queries == 1
    stored = Document.objects.get(certificate__guarantee=guarantee, kind=Document.Kind.CERTIFICATE)
    assert hashlib.sha256(b"".join(pdf.streaming_content)).hexdigest() == stored.sha256

    [other] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    for path in (f"/dsure/{other.number}/", f"/dsure/{other.number}/v1.pdf"):
        assert browser.get(FLOOR + path).status_code == 404
        assert Client().get(FLOOR + path).status_code == 404  # no grant at all
    registry.reissue_key(guarantee=guarantee, by=staff)  # the grant dies with the key
    assert browser.get(f"{FLOOR}/dsure/{guarantee.number}/").status_code == 404


def test_the_list_floors_read_the_session_and_one_page(bench_urls, clerk_client, guarantee):
    for path in ("/certificates/", "/applications/"):
        response, queries = count_queries(lambda p=path: clerk_client.get(FLOOR + p))
        assert response.status_code == 200
        # The session; the user (accounts.middleware reads it on every request); 20 rows
        # and their count.
        assert queries == 3
    assert guarantee.number in clerk_client.get(f"{FLOOR}/certificates/").content.decode()
    assert Client().get(f"{FLOOR}/certificates/").status_code == 404
