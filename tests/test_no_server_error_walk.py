"""No input gives a server error (issue #12 item 7), for anyone who can send it.

Two walks, both over the live URLconf, so a URL or form added later is covered by the same
tests without editing them:
- every URL pattern with a hostile value in each of its segments (and in the query string),
  as GET and POST, for an anonymous visitor, a clerk, an office user, a bank user and staff;
- every form the site shows to those users (found by crawling their pages from each URL that
  needs no argument, following links), posted with a hostile value in every field.
A 4xx (404, 405, 400, 403, a login redirect) is a fine answer; a 5xx never is.
"""

import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern

from certificates.services import hand_over
from tests.conftest import (
    accept_handover,
    advance_office,
    make_advance_account,
    make_application,
    make_bank_user,
    make_concluded,
    make_invitation,
    make_member,
    make_office_user,
    make_orderer,
    make_staff,
)

# What an attacker types instead of an id, a number or a word.
HOSTILE = {
    "nul": "\x00",
    "digits": "9" * 5000,  # past Python's int() limit (4,300 digits) and any bigint
    "full-width": "１２３",  # NFKC makes these ASCII; a converter must not see digits
    "arabic-indic": "١٢٣",  # str.isdigit() says True, int() accepts them
    "dot-dot": "../",
    "emoji": "😀",
}
# A harmless value for the segments that are not under attack (an object that does not exist).
SAMPLE = {"int": "1", "id": "1", "number": "00000000000", "str": "1", "path": "1", "slug": "x"}
SAMPLE_BY_NAME = {"app_label": "accounts", "url": "x/", "key": "x", "uidb36": "1"}
# Posting these would end the walk's own session.
SESSION_ENDERS = {"account_logout", "admin:logout"}

_ROUTE_SEGMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)")


def _pieces(pattern):
    """The pattern as literal text and segments: [text, (sample,), text, (sample,), ...]."""
    text = str(pattern.pattern)
    if isinstance(pattern.pattern, RoutePattern):
        split = _ROUTE_SEGMENT.split(text)  # text, converter, name, text, ...
        pieces = [split[0]]
        for i in range(1, len(split), 3):
            pieces += [(SAMPLE.get(split[i] or "str", "1"),), split[i + 2]]
        return pieces
    split = _REGEX_GROUP.split(text.lstrip("^").rstrip("$"))  # text, name, text, ...
    pieces = [split[0].replace("\\", "")]
    for i in range(1, len(split), 2):
        pieces += [(SAMPLE_BY_NAME.get(split[i], "1"),), split[i + 1].replace("\\", "")]
    return pieces


def routes(patterns=None, prefix=("/",), namespace=""):
    """(name, pieces) for every URLPattern of the URLconf, through every include."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for pattern in patterns:
        here = [*prefix, *_pieces(pattern)]
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or ""
            inner = f"{namespace}:{ns}".strip(":") if ns else namespace
            yield from routes(pattern.url_patterns, here, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}".strip(":") if pattern.name else None
            yield name, here


def hostile_urls(pieces):
    """The route with each hostile value in each segment in turn (the others harmless)."""
    slots = [i for i, piece in enumerate(pieces) if isinstance(piece, tuple)]
    for slot in slots:
        for label, value in HOSTILE.items():
            yield (
                label,
                "".join(
                    quote(value, safe="") if i == slot else (p[0] if isinstance(p, tuple) else p)
                    for i, p in enumerate(pieces)
                ),
            )


# Parameters our list pages and the admin read (page, filters, search, ordering, pagination).
QUERY_PARAMS = ("page", "status", "orderer", "q", "o", "p", "kind")
ADMIN = "/" + settings.ESURE_ADMIN_PATH


def _query(value):
    # 1,000 digits here: seven of them still exceed every bigint, and the URL stays short
    # enough for a login redirect to carry it (Django refuses a redirect over 16,384 chars;
    # gunicorn refuses a request line over 4,094 bytes long before that).
    value = value[:1000]
    return "?" + "&".join(f"{name}={quote(value, safe='')}" for name in QUERY_PARAMS)


def _fill(pieces):
    return "".join(p[0] if isinstance(p, tuple) else p for p in pieces)


def url_cases():
    """(url, name, whom) to send — whom is ALL (GET and POST for every user), STAFF_GET (GET
    by staff only) or ADMIN_ONCE (GET by everyone, POST by staff). Lean enough for seconds:
    - each hostile value in each segment of each route; a URL that resolves to no view gets
      the same 404 from the same code whatever the route, so only one per hostile value (and
      per trailing slash, which CommonMiddleware treats apart) is sent;
    - admin URLs: every variant as GET by staff; one per route (the hostile value rotating
      from route to route) for everyone, since the admin turns non-staff away before any
      view runs, and as POST by staff;
    - the routes without segments (the lists) with hostile query parameters, two values each.
    """
    cases, unresolved = [], set()
    values = list(HOSTILE)
    for index, (name, pieces) in enumerate(routes()):
        if name in SESSION_ENDERS:
            continue
        plain = _fill(pieces)
        admin = plain.startswith(ADMIN)
        for variant, (label, url) in enumerate(hostile_urls(pieces)):
            try:
                resolve(unquote(url))
            except Resolver404:
                if (label, url.endswith("/")) in unresolved:
                    continue
                unresolved.add((label, url.endswith("/")))
                cases.append((url, name, ALL))
                continue
            if not admin:
                cases.append((url, name, ALL))
            elif variant % len(values) == index % len(values):
                cases.append((url, name, ADMIN_ONCE))
            else:
                cases.append((url, name, STAFF_GET))
        if not any(isinstance(p, tuple) for p in pieces):
            for label in (values[index % len(values)], values[(index + 3) % len(values)]):
                cases.append((plain + _query(HOSTILE[label]), name, STAFF_GET if admin else ALL))
    return cases


ALL, STAFF_GET, ADMIN_ONCE = "all", "staff GET", "admin once"


def _methods(whom, label, url):
    if whom == ALL:
        return ("get",) if "?" in url else ("get", "post")
    if whom == STAFF_GET:
        return ("get",) if label == "staff" else ()
    return ("get", "post") if label == "staff" else ("get",)


def _user_clients():
    orderer = make_orderer()
    users = {
        "clerk": make_member(),
        "office user": make_office_user(advance_office(orderer)),
        "bank user": make_bank_user(),
        "staff": make_staff(),
    }
    clients = {"anonymous": Client(raise_request_exception=False)}
    for label, user in users.items():
        clients[label] = Client(raise_request_exception=False)
        clients[label].force_login(user)
    return clients, users


def _still_logged_in(client, user):
    return client.session.get("_auth_user_id") == str(user.pk)


def test_no_url_answers_with_a_server_error(db):
    clients, users = _user_clients()
    cases = url_cases()
    errors, sent = [], 0
    for label, client in clients.items():
        for url, name, whom in cases:
            for method in _methods(whom, label, url):
                status = getattr(client, method)(url).status_code
                sent += 1
                if status >= 500:
                    errors.append(f"{label} {method.upper()} {url[:100]} ({name}): {status}")
    for label, user in users.items():
        assert _still_logged_in(clients[label], user), label
    names = {name for name, _ in routes()}
    assert {"dsure:viewer", "certs:hand_over", "advances:withdrawal", "bank:deposit"} <= names
    assert any(name and name.startswith("admin:") for name in names)
    assert sent > 2000
    assert errors == [], "\n".join(errors)


# --- Every form ------------------------------------------------------------------------------


class _PageParser(HTMLParser):
    """The links and the forms (action, method, field names, file fields) of one page."""

    def __init__(self):
        super().__init__()
        self.links, self.forms = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            method = (attrs.get("method") or "get").lower()
            self.forms.append({"action": attrs.get("action"), "method": method, "fields": {}})
        elif tag in ("input", "select", "textarea", "button") and self.forms and attrs.get("name"):
            kind = attrs.get("type", "text") if tag == "input" else tag
            self.forms[-1]["fields"][attrs["name"]] = kind


def _is_ours(link):
    return not link.startswith(("http:", "https:", "//", "mailto:", "tel:", "#", "javascript:"))


def _key(path):
    """One visit per view and per kind of object (the URL name), not per object."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def _crawl(client, seeds, limit=400):
    """GET pages from `seeds`, following the site's own links, one page per URL name: the
    (action, form) of every form on the pages that answered 200."""
    seen, forms, queries, queue = set(), {}, {}, list(seeds)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        path = urlsplit(url).path
        key = _key(path)
        if key is None or key in seen or key in SESSION_ENDERS or path.endswith(".pdf"):
            continue
        seen.add(key)
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _PageParser()
        parser.feed(response.content.decode())
        links = [urljoin(path, link) for link in parser.links if _is_ours(link)]
        queue += links
        # The query parameters of a view's links (?page=2, ?status__exact=…), all of them
        # together, are one more form of that view.
        for link in links:
            parts = urlsplit(link)
            if parts.query and _key(parts.path):
                default = (parts.path, {"action": parts.path, "method": "get", "fields": {}})
                _, form = queries.setdefault(_key(parts.path), default)
                form["fields"].update((name, "text") for name, _ in parse_qsl(parts.query, True))
        for form in parser.forms:
            action = urlsplit(urljoin(path, form["action"] or path)).path
            form_key = (_key(action), form["method"], tuple(sorted(form["fields"])))
            forms.setdefault(form_key, (action, form))
    return [*forms.values(), *queries.values()]


def _hostile_data(fields, value):
    data = {}
    for name, kind in fields.items():
        if kind == "file":
            data[name] = SimpleUploadedFile("../" + value[:50] + ".pdf", value.encode()[:200])
        elif name != "csrfmiddlewaretoken":
            data[name] = value
    return data


def _seeds():
    """Every URL that needs no argument."""
    seeds = []
    for name, pieces in routes():
        if name and not any(isinstance(p, tuple) for p in pieces):
            seeds.append("".join(pieces))
    return seeds


def _values_for(action):
    """Every hostile value for the site's forms; for the admin's (Django's own form machinery,
    ~90 of them) NUL, 5,000 digits and one other value, rotating from form to form."""
    if not action.startswith(ADMIN):
        return list(HOSTILE.values())
    others = [value for label, value in HOSTILE.items() if label not in ("nul", "digits")]
    return [HOSTILE["nul"], HOSTILE["digits"], others[len(action) % len(others)]]


def _world(users):
    """Something of each user's own to open, so that the crawl reaches their forms: a concluded
    前払金保証 of the clerk's company with its account and a draft application, handed over to
    the office user's office; an invitation; the bank user's branch holds the account."""
    clerk, office = users["clerk"], users["office user"].office_membership.office
    company = clerk.membership.company
    accept_handover(office.orderer)
    (guarantee,) = make_concluded(company=company, orderer=office.orderer, office=office)
    hand_over(guarantee=guarantee, office=office, by=clerk)
    make_advance_account(guarantee, by=clerk, branch=users["bank user"].bank_membership.branch)
    make_application(company=company, by=clerk)
    make_invitation(company=company, by=clerk)


def test_no_form_answers_hostile_values_with_a_server_error(db):
    clients, users = _user_clients()
    _world(users)
    errors, found, sent = [], {}, 0
    for label, client in clients.items():
        forms = _crawl(client, _seeds())
        found[label] = {_key(action) for action, _ in forms}
        for action, form in forms:
            if _key(action) in SESSION_ENDERS:
                continue
            send = client.post if form["method"] == "post" else client.get
            for value in _values_for(action):
                status = send(action, _hostile_data(form["fields"], value)).status_code
                sent += 1
                if status >= 500:
                    fields = sorted(form["fields"])
                    errors.append(f"{label} {form['method']} {action} {fields}: {status}")
    for label, user in users.items():
        assert _still_logged_in(clients[label], user), label
    # The crawl reached each user's own forms (else the walk proves little).
    assert {"certs:hand_over", "applications:edit", "advances:plan_start"} <= found["clerk"]
    assert "dsure:receive" in found["office user"]
    assert "bank:deposit" in found["bank user"]
    assert "account_login" in found["anonymous"]
    assert len([name for name in found["staff"] if name.startswith("admin:")]) > 30
    assert errors == [], "\n".join(errors)
