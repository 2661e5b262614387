"""Bench-only floor views (issue 22): for each benched page, the least work its request needs,
behind the same middleware and gunicorn configuration as the page, so that `make bench` can
report each page as a ratio to its floor in the same run.

Never part of the product: only bench/urls.py routes here, and only bench/wsgi.py (which the
bench's gunicorn loads instead of esure.wsgi) selects bench/urls.py. The production URLconf
has no route to these views (tests/bench/test_floors.py).

What each floor does, and nothing more:
- lookup: parse the number and key, read the guarantee and its throttle state in one
  statement (dsure.throttle.lookup_state), check the key, insert the log row, issue the grant
  (a signed cookie: number + key version), redirect;
- viewer: read the grant, read the guarantee's current version in one statement (its content
  stands in for the stored page), return it;
- stored PDF: read the grant, the document row in one statement, stream the file (the
  viewer's and this one's statements prepared on the connection, as the pages' are:
  decision 0055);
- lists: the session (and the user, which the middleware stack reads on every request), then
  one statement for 20 rows and their count, prepared on the connection as the pages' are
  (decision 0055), a minimal template.
"""

from html import escape

from django.core import signing
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from certificates import keys, numbering
from dsure import throttle
from esure.clientip import client_key
from esure.queries import run_prepared
from esure.storage import stored_file_response

GRANT_COOKIE = "floor_grant"
GRANT_SALT = "bench.floors.grant"
NO_MATCH = "保証契約番号または認証キーが正しくありません。"
WAIT = "しばらく時間をおいてからお試しください。"

_INSERT_LOG = (
    "INSERT INTO dsure_accesslog (at, ip, number, outcome, guarantee_id, attempts) "
    "VALUES (%s, %s, %s, %s, %s, 1)"
)


def _no_store(response):
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_POST
def lookup(request):
    parsed = numbering.parse_number(request.POST.get("number", ""))
    key = keys.parse_key(request.POST.get("key", ""))
    if parsed is None or key is None:
        return _no_store(HttpResponse(NO_MATCH))
    number, ip, now = parsed.number, client_key(request), timezone.now()
    state = throttle.lookup_state(number, ip=ip, now=now)
    refused = throttle.refusal(state, exempt=False, now=now)
    if refused == throttle.Refusal.OVER_CEILING:
        # As the product counts a flood's attempt (decision 0048): without waiting for the
        # WAL's fsync, unless the count locks the number; one round trip.
        sql, params = throttle.count_refused_query(number=number, ip=ip, state=state, now=now)
        if not throttle.lock_due(state):
            sql = f"BEGIN;\n{throttle.ASYNC_COMMIT_SQL};\n{sql};\nCOMMIT"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return _no_store(HttpResponse(WAIT))
    right = (
        refused is None
        and state.guarantee_id is not None
        and keys.verify_key(number, state.key_version, key, salt=state.key_salt)
    )
    outcome = "success" if right else ("failure" if refused is None else "throttled")
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_LOG, [now, ip, number, outcome, state.guarantee_id if right else None]
        )
    if not right:
        return _no_store(HttpResponse(NO_MATCH if refused is None else WAIT))
    response = redirect("bench_floors:viewer", number)
    response.set_signed_cookie(
        GRANT_COOKIE, f"{number}:{state.key_version}", salt=GRANT_SALT, httponly=True
    )
    return _no_store(response)


def _grant(request, number):
    """The key version the signed cookie grants for this number (30 minutes), or 404."""
    try:
        value = request.get_signed_cookie(GRANT_COOKIE, salt=GRANT_SALT, max_age=30 * 60)
    except (KeyError, signing.BadSignature):
        raise Http404 from None
    granted, _, key_version = value.partition(":")
    if granted != number:
        raise Http404
    return int(key_version)


_CURRENT_PAGE = """
SELECT g.key_version, c.content::text FROM certificates_guarantee AS g
JOIN certificates_certificate AS c ON c.guarantee_id = g.id
WHERE g.number = %s ORDER BY c.version DESC LIMIT 1
"""


@require_GET
def viewer(request, number):
    key_version = _grant(request, number)
    # Prepared on the connection, as the page's statement is (decision 0055).
    rows = run_prepared(connection, _CURRENT_PAGE, [number])
    row = rows[0] if rows else None
    if row is None or row[0] != key_version:
        raise Http404
    return _no_store(HttpResponse(row[1]))


_DOCUMENT = """
SELECT g.key_version, d.file FROM certificates_guarantee AS g
JOIN certificates_certificate AS c ON c.guarantee_id = g.id AND c.version = %s
JOIN certificates_document AS d ON d.certificate_id = c.id AND d.kind = 'certificate'
WHERE g.number = %s
"""


@require_GET
def document(request, number, version):
    key_version = _grant(request, number)
    rows = run_prepared(connection, _DOCUMENT, [version, number])
    row = rows[0] if rows else None
    if row is None or row[0] != key_version:
        raise Http404
    response = stored_file_response(row[1], content_type="application/pdf")
    return _no_store(response)


# The minimal list markup, values escaped and joined by str.format as the pages' rows are
# (decision 0047 and its followers): a template's loop with localised dates cost more than
# menu 4's whole page once menu 4 dropped its own (bench/README.md, 2026-12-06 night).
_LIST_HEAD = "<!doctype html><title>一覧</title><p>{}件</p><table>"
_LIST_ROW = "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"

# The count as a subquery, not COUNT(*) OVER (): the window reads every row before the LIMIT
# (9.3 ms against 0.3 ms for the company of 500, EXPLAIN ANALYZE at scale 0.01).
_GUARANTEES_PAGE = """
WITH m AS (SELECT company_id FROM accounts_membership WHERE user_id = %s)
SELECT g.number, g.kind, c.amount, c.ends_on,
       (SELECT COUNT(*) FROM certificates_guarantee
        WHERE company_id = (SELECT company_id FROM m)) AS total
FROM certificates_guarantee AS g
JOIN LATERAL (
    SELECT amount, ends_on FROM certificates_certificate
    WHERE guarantee_id = g.id ORDER BY version DESC LIMIT 1
) AS c ON TRUE
WHERE g.company_id = (SELECT company_id FROM m)
ORDER BY g.concluded_at DESC, g.id DESC LIMIT 20
"""

_APPLICATIONS_PAGE = """
WITH m AS (SELECT company_id FROM accounts_membership WHERE user_id = %s)
SELECT a.id, a.menu, a.status, a.updated_at,
       (SELECT COUNT(*) FROM applications_application
        WHERE company_id = (SELECT company_id FROM m)) AS total
FROM applications_application AS a
WHERE a.company_id = (SELECT company_id FROM m)
ORDER BY a.updated_at DESC, a.id DESC LIMIT 20
"""


def _list(request, sql):
    user_id = request.session.get("_auth_user_id")  # the session row: one statement
    if user_id is None:
        raise Http404
    # Prepared on the connection, as the pages' list statements are (decision 0055).
    rows = run_prepared(connection, sql, [user_id])
    total = rows[0][4] if rows else 0
    body = "".join(_LIST_ROW.format(*(escape(str(value)) for value in row[:4])) for row in rows)
    return HttpResponse(_LIST_HEAD.format(total) + body + "</table>")


@require_GET
def guarantees(request):
    return _list(request, _GUARANTEES_PAGE)


@require_GET
def applications(request):
    return _list(request, _APPLICATIONS_PAGE)
