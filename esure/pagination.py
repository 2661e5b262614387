"""Long lists (電子証書の確認, 保存中・手続き中一覧) are shown a page at a time."""

from django.core.paginator import Paginator

# One screenful for a clerk; the numbered links reach any page of a long list directly.
PER_PAGE = 20


def page_of(request, object_list, per_page=PER_PAGE):
    """The page `?page=N` of the list, its rows fetched once. A page number that is not a
    number or is out of range shows the nearest page rather than an error: a bookmarked
    page 7 of a list that has since shrunk shows its last page."""
    paginator = Paginator(object_list, per_page)
    try:
        number = int(request.GET.get("page", 1))
    except ValueError:
        number = 1
    page = paginator.page(min(max(number, 1), paginator.num_pages))
    page.object_list = list(page.object_list)
    # 1 2 … 6 7 [8] 9 10 … 19 20: templates cannot call a method with arguments.
    page.shown_numbers = list(page.paginator.get_elided_page_range(page.number))
    return page
