"""esure.pagination's page links (page.nav, printed by _pagination.html): the markup the
template's {% for %} and {% querystring page=N %} wrote, made in one format_html."""

from django.test import RequestFactory

from esure import pagination
from esure.pagination import PER_PAGE, page_of

# Page 8 of 20, with a filter to keep (escaped as the template escaped it) and two gaps.
PAGE_8_OF_20 = (
    '\n<nav class="pagination" aria-label="ページ送り">\n'
    '  <p class="pagination__summary">全400件中 141〜160件を表示</p>\n'
    '  <ul class="pagination__pages">\n'
    '    <li><a href="?status=a%26b%3C&amp;page=7" rel="prev">前へ</a></li>\n'
    "    \n"
    '      <li><a href="?status=a%26b%3C&amp;page=1">1</a></li>\n'
    "    \n"
    '      <li><a href="?status=a%26b%3C&amp;page=2">2</a></li>\n'
    "    \n"
    "      <li><span>…</span></li>\n"
    "      \n"
    "    \n"
    '      <li><a href="?status=a%26b%3C&amp;page=5">5</a></li>\n'
    "    \n"
    '      <li><a href="?status=a%26b%3C&amp;page=6">6</a></li>\n'
    "    \n"
    '      <li><a href="?status=a%26b%3C&amp;page=7">7</a></li>\n'
    "    \n"
    '      <li><span aria-current="page">8</span></li>\n'
    "      \n"
    "    \n"
    '      <li><a href="?status=a%26b%3C&amp;page=9">9</a></li>\n'
    "    \n"
    '      <li><a href="?status=a%26b%3C&amp;page=10">10</a></li>\n'
    "    \n"
    '      <li><a href="?status=a%26b%3C&amp;page=11">11</a></li>\n'
    "    \n"
    "      <li><span>…</span></li>\n"
    "      \n"
    "    \n"
    '      <li><a href="?status=a%26b%3C&amp;page=19">19</a></li>\n'
    "    \n"
    '      <li><a href="?status=a%26b%3C&amp;page=20">20</a></li>\n'
    "    \n"
    '    <li><a href="?status=a%26b%3C&amp;page=9" rel="next">次へ</a></li>\n'
    "  </ul>\n"
    "</nav>\n"
)


def nav(params, total):
    request = RequestFactory().get("/list/", params)
    return str(page_of(request, list(range(total))).nav)


def test_the_links_keep_the_filter_mark_the_page_and_elide_the_middle():
    assert nav({"status": "a&b<", "page": "8"}, 20 * PER_PAGE) == PAGE_8_OF_20


def test_the_page_parameter_keeps_its_place_among_the_others():
    html = nav({"page": "2", "status": "draft", "orderer": "7"}, 3 * PER_PAGE)

    assert '<a href="?page=1&amp;status=draft&amp;orderer=7" rel="prev">前へ</a>' in html
    assert '<a href="?page=3&amp;status=draft&amp;orderer=7">3</a>' in html


def test_the_first_and_last_pages_have_no_link_past_them():
    first, last = nav({}, 2 * PER_PAGE), nav({"page": "2"}, 2 * PER_PAGE)

    assert 'rel="prev"' not in first and 'rel="next"' in first
    assert 'rel="prev"' in last and 'rel="next"' not in last


def test_one_page_has_no_links():
    assert nav({}, PER_PAGE) == ""
    assert nav({}, 0) == ""


def test_the_links_are_made_once_per_query_page_and_length():
    pagination._nav.cache_clear()
    first = nav({"status": "a&b<", "page": "8"}, 20 * PER_PAGE)
    again = nav({"status": "a&b<", "page": "8"}, 20 * PER_PAGE)
    longer = nav({"status": "a&b<", "page": "8"}, 21 * PER_PAGE)
    other_filter = nav({"status": "draft", "page": "8"}, 20 * PER_PAGE)

    info = pagination._nav.cache_info()
    assert (info.hits, info.misses) == (1, 3)
    assert first == again == PAGE_8_OF_20
    assert "全420件中" in longer and "status=draft" in other_filter
