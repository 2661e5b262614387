"""The viewer grant (docs/decisions/0004, 0009, 0028): a right number + key grants that one
guarantee at that key version, for 30 minutes after the last use and 8 hours at most, in a
signed cookie (no session). Everything else is a 404, the same
as a number that does not exist. The PDF is the stored original; an older version says it is
変更前; the key travels only in the POST body."""

import datetime
import hashlib
import re

import pytest
from django.conf import settings
from django.core import signing
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates import services as registry
from certificates.models import Certificate, Document
from certificates.numbering import make_number
from dsure import selectors
from esure.choices import GuaranteeKind
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    NOW,
    WORK_DATES,
    dsure_lookup,
    make_concluded,
    statement_texts,
)

MINUTE = datetime.timedelta(minutes=1)
UNKNOWN = make_number(8, GuaranteeKind.ADVANCE, 9_999_999)
# Measured (PostgreSQL), the same for one version or two: the versions with their guarantee
# joined (no other related rows: the page prints the frozen certificate; no documents: the
# page links to them). The grant is a cookie: no session. Receipts only for an office user.
# The PDF: the document with its version and guarantee joined.
VIEWER_QUERIES = 1
VERSION_QUERIES = 1
DOCUMENT_QUERIES = 1


def grants_of(browser):
    """The grants in the browser's signed cookie: {number: [key version, at, last seen]}."""
    value = browser.cookies[selectors.grant_cookie_name()].value
    return signing.Signer(salt=selectors.GRANT_SALT).unsign_object(value)


@pytest.fixture
def pair(clerk, tsukumi):
    """Two guarantees of one work (前払金 A and 契約保証 B), each with its own key."""
    items = {GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT}
    a, b = make_concluded(company=clerk.membership.company, items=items, **WORK_DATES)
    assert (a.kind, b.kind) == (GuaranteeKind.ADVANCE, GuaranteeKind.CONTRACT)
    return a, b


@pytest.fixture
def guarantee(clerk, tsukumi):
    """The clerk's 前払金保証 alone (half the PDFs of a pair to render)."""
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return guarantee


def viewer_urls(number, version=1):
    return [
        reverse("dsure:viewer", args=[number]),
        reverse("dsure:version", args=[number, version]),
        reverse("dsure:document", args=[number, version]),
    ]


def opened(guarantee, browser=None):
    """A browser that typed the guarantee's number and key (and was let in)."""
    browser = browser or Client()
    response = dsure_lookup(browser, guarantee.number_display, registry.current_key(guarantee))
    assert response.status_code == 302
    assert response["Location"] == reverse("dsure:viewer", args=[guarantee.number])
    return browser


def test_a_grant_opens_its_own_guarantee_only(pair):
    a, b = pair
    browser = opened(a)
    for url in viewer_urls(a.number):
        assert browser.get(url).status_code == 200, url
    # A segment that is no number does not even resolve (esure.converters): also a 404.
    not_numbers = ["/dsure/0/", "/dsure/0/v1/", "/dsure/0/v1.pdf"]
    for url in [*viewer_urls(b.number), *viewer_urls(UNKNOWN), *not_numbers]:
        assert browser.get(url).status_code == 404, url
    # B's 404 reads exactly like that of a number that does not exist.
    assert (
        browser.get(reverse("dsure:viewer", args=[b.number])).content
        == browser.get(reverse("dsure:viewer", args=[UNKNOWN])).content
    )
    # A version that does not exist of the granted guarantee: 404 too.
    for url in viewer_urls(a.number, version=2)[1:]:
        assert browser.get(url).status_code == 404, url


def test_without_a_grant_every_viewer_url_is_404(guarantee):
    browser = Client()
    for url in viewer_urls(guarantee.number):
        assert browser.get(url).status_code == 404, url


def test_two_lookups_grant_two_guarantees_each_by_its_own_key(pair):
    a, b = pair
    browser = opened(b, opened(a))
    for url in [*viewer_urls(a.number), *viewer_urls(b.number)]:
        assert browser.get(url).status_code == 200, url


def test_the_grant_ends_thirty_minutes_after_the_last_use(guarantee, frozen):
    browser = opened(guarantee)
    url = reverse("dsure:viewer", args=[guarantee.number])

    frozen.shift(29 * MINUTE)
    assert browser.get(url).status_code == 200
    assert grants_of(browser)[guarantee.number][2] == int(
        (NOW + 29 * MINUTE).timestamp()
    )  # refreshed by that use
    frozen.shift(29 * MINUTE)  # 58 minutes after the lookup, 29 after the last use
    assert browser.get(url).status_code == 200
    frozen.shift(31 * MINUTE)
    for url in viewer_urls(guarantee.number):
        assert browser.get(url).status_code == 404, url


def test_a_use_within_a_minute_sets_no_cookie_and_no_use_writes_to_the_database(guarantee, frozen):
    browser = opened(guarantee)
    url = reverse("dsure:viewer", args=[guarantee.number])
    name = selectors.grant_cookie_name()
    assert browser.get(url).status_code == 200  # the first view ever stamps 閲覧済, once
    frozen.shift(datetime.timedelta(seconds=selectors.REFRESH_SECONDS))
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url)
    assert response.status_code == 200 and name not in response.cookies
    assert [sql for sql in statement_texts(queries) if not sql.startswith("SELECT")] == []
    frozen.shift(datetime.timedelta(seconds=1))  # past the minute: the cookie is refreshed
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url)
    assert response.status_code == 200 and name in response.cookies
    assert [sql for sql in statement_texts(queries) if not sql.startswith("SELECT")] == []
    assert not [q["sql"] for q in queries if "django_session" in q["sql"]]


def test_ending_the_viewing_drops_the_grant(pair):
    a, b = pair
    browser = opened(b, opened(a))
    assert browser.get(reverse("dsure:end")).status_code == 405
    assert browser.get(reverse("dsure:viewer", args=[a.number])).status_code == 200

    response = browser.post(reverse("dsure:end"))
    assert response.status_code == 302
    assert response["Location"] == reverse("dsure:lookup")
    assert "閲覧を終了しました" in browser.get(response["Location"]).content.decode()
    for url in [*viewer_urls(a.number), *viewer_urls(b.number)]:
        assert browser.get(url).status_code == 404, url


def test_the_pdf_is_the_stored_original(guarantee):
    browser = opened(guarantee)
    response = browser.get(reverse("dsure:document", args=[guarantee.number, 1]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    filename = f"{guarantee.number_display}-v1.pdf"
    assert response["Content-Disposition"] == f'inline; filename="{filename}"'
    assert response["Cache-Control"] == "no-store"
    data = b"".join(response.streaming_content)
    stored = Document.objects.get(
        certificate__guarantee=guarantee, certificate__version=1, kind=Document.Kind.CERTIFICATE
    )
    assert hashlib.sha256(data).hexdigest() == stored.sha256
    assert len(data) == stored.size == int(response["Content-Length"])
    assert data.startswith(b"%PDF")


def test_an_older_version_says_it_is_superseded(guarantee):
    v1 = guarantee.certificates.get(version=1)
    Certificate.objects.create(
        guarantee=guarantee,
        version=2,
        content=v1.content,
        fingerprint=v1.fingerprint,
        amount=v1.amount,
        starts_on=v1.starts_on,
        ends_on=v1.ends_on,
        issued_at=NOW,
        change_summary="保証期限変更",
    )
    browser = opened(guarantee)
    badge = '<strong class="badge">変更前</strong>'

    old = browser.get(reverse("dsure:version", args=[guarantee.number, 1])).content.decode()
    assert badge in old
    assert "最新は第2版" in old
    assert "変更あり" in old  # the guarantee's status

    current = browser.get(reverse("dsure:viewer", args=[guarantee.number])).content.decode()
    assert badge not in current
    assert "第2版（最新）" in current
    assert "保証期限変更" in current  # the history lists the change
    same = browser.get(reverse("dsure:version", args=[guarantee.number, 2])).content.decode()
    assert badge not in same


URL_RE = re.compile(r'(?:href|src|action)="([^"]*)"')


def test_the_key_never_travels_in_a_url(guarantee):
    a = guarantee
    printed = registry.current_key(a)
    plain = printed.replace("-", "")
    forms = {printed, plain, printed.lower(), plain.lower()}
    seen = []  # every URL requested, redirected to or linked from a page

    def record(response):
        seen.append(response.request["PATH_INFO"] + "?" + response.request.get("QUERY_STRING", ""))
        if "Location" in response:
            seen.append(response["Location"])
        if response.get("Content-Type", "").startswith("text/html"):
            seen.extend(URL_RE.findall(response.content.decode()))
        return response

    browser = Client()
    record(browser.get(reverse("dsure:lookup")))
    record(dsure_lookup(browser, a.number_display, "WRONG-WRONG-WRNG"))
    record(dsure_lookup(browser, a.number_display, printed))
    for url in viewer_urls(a.number):
        record(browser.get(url))
    record(browser.post(reverse("dsure:end")))
    record(browser.get(reverse("dsure:lookup")))

    assert any(a.number in url for url in seen)  # the number does travel
    leaks = [url for url in seen for key in forms if key in url.upper() or key in url]
    assert not leaks


def test_the_grant_is_a_signed_httponly_cookie_and_no_session(guarantee):
    browser = Client()
    with CaptureQueriesContext(connection) as queries:
        response = dsure_lookup(browser, guarantee.number_display, registry.current_key(guarantee))
    assert response.status_code == 302
    assert not [q["sql"] for q in queries if "django_session" in q["sql"]]
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    cookie = response.cookies[selectors.grant_cookie_name()]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert cookie["max-age"] == selectors.GRANT_MAX_SECONDS
    assert registry.current_key(guarantee).replace("-", "") not in cookie.value.upper()


def test_a_grant_not_signed_by_the_server_opens_nothing(guarantee, frozen):
    now = int(NOW.timestamp())
    url = reverse("dsure:viewer", args=[guarantee.number])
    name = selectors.grant_cookie_name()
    forged = {guarantee.number: [guarantee.key_version, now, now]}
    for value in (
        signing.Signer(salt="another.purpose").sign_object(forged),  # another signature
        signing.Signer(salt=selectors.GRANT_SALT, key="x" * 50).sign_object(forged),
        signing.b64_encode(b'{"%s":[1,0,0]}' % guarantee.number.encode()).decode(),
        "garbage",
    ):
        browser = Client()
        browser.cookies[name] = value
        assert browser.get(url).status_code == 404, value
    # The same content, signed by the server, opens it (the forgeries failed on the signature).
    browser = Client()
    browser.cookies[name] = signing.Signer(salt=selectors.GRANT_SALT).sign_object(forged)
    assert browser.get(url).status_code == 200


def test_one_browser_holds_the_most_recent_grants_only():
    request = RequestFactory().get("/")
    numbers = [f"{n:011d}" for n in range(selectors.MAX_GRANTS + 1)]
    for n in numbers:
        selectors.grant(request, n, 1)
    response = HttpResponse()
    selectors.save_grants(request, response)
    kept = signing.Signer(salt=selectors.GRANT_SALT).unsign_object(
        response.cookies[selectors.grant_cookie_name()].value
    )
    assert len(kept) == selectors.MAX_GRANTS
    assert numbers[-1] in kept


def test_a_failed_lookup_keeps_the_session_id(guarantee):
    browser = Client()
    browser.session.save()
    before = browser.cookies[settings.SESSION_COOKIE_NAME].value
    response = dsure_lookup(browser, guarantee.number_display, "ABCD-EFGH-JKMN-PQRS")
    assert response.status_code == 200
    assert browser.cookies[settings.SESSION_COOKIE_NAME].value == before


def test_viewer_pages_read_a_constant_number_of_queries(
    guarantee, frozen, django_assert_max_num_queries
):
    browser = opened(guarantee)
    number = guarantee.number
    # The guarantee's first view ever stamps 閲覧済 (one UPDATE, once): not a page's cost.
    assert browser.get(reverse("dsure:viewer", args=[number])).status_code == 200

    def measure():
        with django_assert_max_num_queries(VIEWER_QUERIES):
            assert browser.get(reverse("dsure:viewer", args=[number])).status_code == 200
        with django_assert_max_num_queries(VERSION_QUERIES):
            assert browser.get(reverse("dsure:version", args=[number, 1])).status_code == 200
        with django_assert_max_num_queries(DOCUMENT_QUERIES):
            assert browser.get(reverse("dsure:document", args=[number, 1])).status_code == 200

    measure()
    v1 = guarantee.certificates.get(version=1)
    for version in (2, 3):  # more versions: the same number of queries
        Certificate.objects.create(
            guarantee=guarantee,
            version=version,
            content=v1.content,
            fingerprint=v1.fingerprint,
            amount=v1.amount,
            starts_on=v1.starts_on,
            ends_on=v1.ends_on,
            issued_at=NOW,
            change_summary="保証期限変更",
        )
    measure()


def test_the_grant_ends_eight_hours_after_the_lookup_however_often_it_is_used(guarantee, frozen):
    browser = opened(guarantee)
    url = reverse("dsure:viewer", args=[guarantee.number])

    for _ in range(24):  # used every 20 minutes: never idle for 30
        frozen.shift(20 * MINUTE)
        assert browser.get(url).status_code == 200
    # NOW + 8 h exactly: still open (the limit is "more than 8 hours after the lookup")
    assert browser.get(url).status_code == 200
    frozen.shift(datetime.timedelta(seconds=1))
    for each in viewer_urls(guarantee.number):
        assert browser.get(each).status_code == 404, each
    assert opened(guarantee, browser).get(url).status_code == 200  # the key opens it again


def test_a_key_reissue_ends_the_grant_of_the_old_key(guarantee, staff):
    browser = opened(guarantee)
    assert browser.get(reverse("dsure:viewer", args=[guarantee.number])).status_code == 200

    registry.reissue_key(guarantee=guarantee, by=staff)

    for url in viewer_urls(guarantee.number):
        assert browser.get(url).status_code == 404, url
    guarantee.refresh_from_db()
    assert opened(guarantee, browser).get(viewer_urls(guarantee.number)[0]).status_code == 200


def test_the_grant_records_the_key_version_that_was_proven(guarantee, frozen):
    browser = opened(guarantee)

    now = int(NOW.timestamp())
    assert grants_of(browser)[guarantee.number] == [1, now, now]


def test_a_grant_without_a_key_version_opens_nothing(guarantee):
    """A grant of another shape (a bare timestamp, as sessions held before key versions
    counted), even signed by the server; nor does a session grant (decision 0028)."""
    browser = Client()
    browser.cookies[selectors.grant_cookie_name()] = signing.Signer(
        salt=selectors.GRANT_SALT
    ).sign_object({guarantee.number: int(NOW.timestamp())})
    session = browser.session
    now = int(NOW.timestamp())
    session["dsure_grants"] = {guarantee.number: {"at": now, "seen": now, "key_version": 1}}
    session.save()

    for url in viewer_urls(guarantee.number):
        assert browser.get(url).status_code == 404, url
