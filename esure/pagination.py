"""Long lists (電子証書の確認, 保存中・手続き中一覧) are shown a page at a time."""

from django.core.paginator import Paginator
from django.db.models import F, Func, QuerySet, Subquery

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
    if _countable_in_one(object_list):
        page = _page_with_count(object_list, number, per_page)
    else:
        paginator = Paginator(object_list, per_page)
        page = paginator.page(min(number, paginator.num_pages))
        page.object_list = list(page.object_list)
    # 1 2 … 6 7 [8] 9 10 … 19 20: templates cannot call a method with arguments.
    page.shown_numbers = list(page.paginator.get_elided_page_range(page.number))
    return page


def _countable_in_one(object_list):
    """A queryset whose count is COUNT(pk) of its rows (no DISTINCT, GROUP BY or UNION)."""
    if not isinstance(object_list, QuerySet):
        return False
    query = object_list.query
    return not (query.distinct or query.combinator or query.group_by or query.is_sliced)


def _page_with_count(queryset, number, per_page):
    count = Subquery(
        queryset.order_by().annotate(**{_TOTAL: Func(F("pk"), function="COUNT")}).values(_TOTAL)
    )
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
