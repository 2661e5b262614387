"""Long lists (電子証書の確認, 保存中・手続き中一覧) are shown a page at a time."""

import functools
import secrets
from html import escape

from django.core.paginator import Paginator
from django.db.models import F, Func, QuerySet, Subquery
from django.http import QueryDict
from django.utils.safestring import mark_safe

from esure.queries import Prepared

# One screenful for a clerk; the numbered links reach any page of a long list directly.
PER_PAGE = 20
# The list's row count, carried by each row of the page (see _page_with_count).
_TOTAL = "page_of_total"
# Past any list's end, and small enough that its OFFSET stays a bigint: ?page=999…9 is a page
# past the end (the last page is shown), not a database error.
_MAX_PAGE = 10**9


def page_of(request, object_list, per_page=PER_PAGE):
    """The page `?page=N` of the list, its rows fetched once. A page number that is not a
    number or is out of range shows the nearest page rather than an error: a bookmarked
    page 7 of a list that has since shrunk shows its last page.

    A plain queryset's page and its count come in one statement (a scalar subquery counts,
    evaluated once: not COUNT(*) OVER (), which reads every row before the LIMIT); a page
    past the end costs two more (the count, then the last page)."""
    try:
        number = min(max(int(request.GET.get("page", 1)), 1), _MAX_PAGE)
    except ValueError:
        number = 1
    if isinstance(object_list, _BoundList):
        page = _prepared_page(object_list, number, per_page)
    elif _countable_in_one(object_list):
        page = _page_with_count(object_list, number, per_page)
    else:
        paginator = Paginator(object_list, per_page)
        page = paginator.page(min(number, paginator.num_pages))
        page.object_list = list(page.object_list)
    page.nav = _nav(
        request.META.get("QUERY_STRING", ""), page.number, page.paginator.count, per_page
    )
    return page


# The page links (_pagination.html prints page.nav), as the template once wrote them with a
# {% for %} and a {% querystring %} per link: the same bytes, in one str.format (the loop was
# more than half of a list page's template time, issue 22).
_NAV = (
    '\n<nav class="pagination" aria-label="ページ送り">\n'
    '  <p class="pagination__summary">全{}件中 {}〜{}件を表示</p>\n'
    '  <ul class="pagination__pages">\n'
    "    {}\n"
    "    {}\n"
    "    {}\n"
    "  </ul>\n"
    "</nav>\n"
)
_PREVIOUS = '<li><a href="{}" rel="prev">前へ</a></li>'
_NEXT = '<li><a href="{}" rel="next">次へ</a></li>'
_GAP = "\n      <li><span>…</span></li>\n      \n    "
_CURRENT = '\n      <li><span aria-current="page">{}</span></li>\n      \n    '
_LINK = '\n      <li><a href="{}">{}</a></li>\n    '


# Stands for the page number in the links' query, which is encoded once (issue 22: an
# urlencode and a format_html per link were a tenth of a list page's CPU); letters and
# digits, which urlencode and escape leave as they are.
_PAGE_SLOT = f"page{secrets.token_hex(16)}"


# Page links kept per process, by the query string and the page (~1 kB each): the same for
# every request of a list page that shows the same page of a list of the same length.
NAV_CACHE_SIZE = 1024


@functools.lru_cache(maxsize=NAV_CACHE_SIZE)
def _nav(query_string, number, count, per_page):
    """The page links of page `number` of a list of `count` rows, keeping the request's other
    query parameters as {% querystring page=N %} did; "" for one page. Each value is escaped
    by html.escape, as format_html's escape does. Made once per process for the same
    arguments (a list page's links were ~0.06-0.08 ms of its ~1.7 ms of CPU, issue 22)."""
    paginator = Paginator((), per_page)
    paginator.count = count  # the cached property, as page_of sets it
    if paginator.num_pages <= 1:
        return ""
    page = paginator._get_page((), number, paginator)
    params = QueryDict(query_string, mutable=True)
    params["page"] = _PAGE_SLOT
    query = escape("?" + params.urlencode())

    def href(number):
        return query.replace(_PAGE_SLOT, str(number))

    links = []
    # 1 2 … 6 7 [8] 9 10 … 19 20
    for shown in paginator.get_elided_page_range(number):
        if not isinstance(shown, int):  # the paginator's ELLIPSIS
            links.append(_GAP)
        elif shown == number:
            links.append(_CURRENT.format(shown))
        else:
            links.append(_LINK.format(href(shown), shown))
    previous = _PREVIOUS.format(href(page.previous_page_number())) if page.has_previous() else ""
    following = _NEXT.format(href(page.next_page_number())) if page.has_next() else ""
    return mark_safe(  # noqa: S308 — numbers, and the query escaped above
        _NAV.format(
            count,
            page.start_index(),
            page.end_index(),
            previous,
            "".join(links),
            following,
        )
    )


def _countable_in_one(object_list):
    """A queryset whose count is COUNT(pk) of its rows (no DISTINCT, GROUP BY or UNION)."""
    if not isinstance(object_list, QuerySet):
        return False
    query = object_list.query
    return not (query.distinct or query.combinator or query.group_by or query.is_sliced)


def _count_of(queryset):
    """The scalar subquery counting the queryset's rows (PostgreSQL evaluates it once)."""
    return Subquery(
        queryset.order_by().annotate(**{_TOTAL: Func(F("pk"), function="COUNT")}).values(_TOTAL)
    )


def _page_with_count(queryset, number, per_page):
    count = _count_of(queryset)
    bottom = (number - 1) * per_page
    rows = list(queryset.annotate(**{_TOTAL: count})[bottom : bottom + per_page])
    paginator = Paginator(queryset, per_page)
    if rows:
        paginator.count = getattr(rows[0], _TOTAL)  # the cached property, without its query
    elif number > 1:  # past the end (the list shrank): its last page, or page 1 if empty
        number = min(number, paginator.num_pages)
        bottom = (number - 1) * per_page
        rows = list(queryset[bottom : bottom + per_page])
    else:
        paginator.count = 0
    return paginator._get_page(rows, number, paginator)


class PreparedList:
    """A list that page_of pages through, its page statement (the rows, as dicts of `fields`,
    and their count) built and compiled once per process by esure.queries.Prepared: for the
    contractor's lists, where building and compiling the queryset on every request was a
    third of the page's CPU (issue 22).

    `build(**values)` returns the list's queryset, ordered, for one request's values (see
    Prepared for what a value may be); `of(**values)` is the list to hand to page_of.
    """

    def __init__(self, build, fields):
        self.build = build
        self.fields = tuple(fields)
        self._page = Prepared(self._page_queryset)

    def _page_queryset(self, **values):
        queryset = self.build(**values)
        return queryset.annotate(**{_TOTAL: _count_of(queryset)}).values(*self.fields, _TOTAL)

    def of(self, **values):
        return _BoundList(self, values)


class _BoundList:
    def __init__(self, prepared, values):
        self.prepared = prepared
        self.values = values

    def rows(self, offset, limit):
        rows = self.prepared._page.rows(limit=limit, offset=offset, **self.values)
        total = rows[0][_TOTAL] if rows else None
        for row in rows:
            del row[_TOTAL]
        return rows, total

    def count(self):
        return self.prepared.build(**self.values).count()


def _prepared_page(bound, number, per_page):
    """As _page_with_count: one statement, two more for a page past the end."""
    rows, total = bound.rows((number - 1) * per_page, per_page)
    paginator = Paginator((), per_page)
    if rows:
        paginator.count = total
    elif number > 1:  # past the end (the list shrank): its last page, or page 1 if empty
        paginator.count = bound.count()
        number = min(number, paginator.num_pages)
        rows, _ = bound.rows((number - 1) * per_page, per_page)
    else:
        paginator.count = 0
    return paginator._get_page(rows, number, paginator)
