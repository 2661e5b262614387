"""The key-holder's viewer page is kept per process for what it shows (dsure.views._viewer_page,
decision 0043): the same bytes as a page rendered afresh, its own CSRF token in every
response, at once the new page when the guarantee, its versions, the day or the visitor
change — never another guarantee's page, and never an office user's (their page has forms)."""

import datetime
import re

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from certificates import services as registry
from certificates.models import Guarantee
from dsure import views
from esure.choices import GuaranteeKind
from esure.kept import CSRF_SLOT
from tests.conftest import MAX_ADVANCE, MIN_CONTRACT, WORK_DATES, dsure_lookup, make_concluded

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


def opened(guarantee, browser=None):
    browser = browser or Client()
    response = dsure_lookup(browser, guarantee.number_display, registry.current_key(guarantee))
    assert response.status_code == 302
    return browser


def page(browser, guarantee):
    response = browser.get(reverse("dsure:viewer", args=[guarantee.number]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    return response.content.decode()


def without_token(html):
    return CSRF_RE.sub('name="csrfmiddlewaretoken" value=""', html)


def afresh(browser, guarantee):
    views._pages.clear()
    return page(browser, guarantee)


def test_the_kept_page_is_the_page_rendered_afresh(guarantee):
    browser = opened(guarantee)
    page(browser, guarantee)  # the first view stamps the guarantee 閲覧済 (a changed row)
    page(browser, guarantee)
    kept_before = len(views._pages)

    first, kept = page(browser, guarantee), page(browser, guarantee)

    assert len(views._pages) == kept_before
    assert without_token(kept) == without_token(first) == without_token(afresh(browser, guarantee))
    assert guarantee.number_display in kept
    assert CSRF_SLOT not in kept


def test_each_response_carries_its_own_working_csrf_token(guarantee):
    browser = Client(enforce_csrf_checks=True)
    browser.cookies = opened(guarantee).cookies  # the lookup's grant, in a browser checking CSRF

    tokens = [CSRF_RE.search(page(browser, guarantee)).group(1) for _ in range(3)]

    assert len(set(tokens)) == 3  # masked anew each time, as Django's {% csrf_token %} does
    ended = browser.post(reverse("dsure:end"), {"csrfmiddlewaretoken": tokens[-1]})
    assert ended.status_code == 302  # 閲覧を終了 accepts the kept page's token
    assert browser.get(reverse("dsure:viewer", args=[guarantee.number])).status_code == 404


def test_a_change_of_the_guarantee_shows_at_once(guarantee):
    browser = opened(guarantee)
    assert "完成日" not in page(browser, guarantee)

    Guarantee.objects.filter(pk=guarantee.pk).update(
        completed_on=datetime.date(2027, 3, 1), completed_at=timezone.now()
    )

    changed = page(browser, guarantee)
    assert "完成日" in changed and "令和9年3月1日" in changed
    assert without_token(changed) == without_token(afresh(browser, guarantee))


def test_the_day_is_part_of_the_page(guarantee, frozen):
    browser = opened(guarantee)
    before = page(browser, guarantee)

    frozen.move_to(datetime.datetime(2027, 6, 1, 1, 0, tzinfo=datetime.UTC))  # past 保証期限
    browser = opened(guarantee)  # a new lookup: the grant's 30 minutes are long gone

    after = page(browser, guarantee)
    assert "期間満了" in after and "期間満了" not in before
    assert without_token(after) == without_token(afresh(browser, guarantee))


def test_a_logged_in_visitor_gets_the_page_without_the_login_link(guarantee, clerk_client):
    anonymous = page(opened(guarantee), guarantee)
    logged_in = page(opened(guarantee, clerk_client), guarantee)

    assert "発注機関の方のログイン" in anonymous
    assert "発注機関の方のログイン" not in logged_in


def test_two_guarantees_never_get_each_other_s_page(clerk, tsukumi):
    items = {GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT}
    a, b = make_concluded(company=clerk.membership.company, items=items, **WORK_DATES)
    browser = opened(b, opened(a))

    for _ in range(3):
        page_a, page_b = page(browser, a), page(browser, b)
        assert a.number_display in page_a and b.number_display not in page_a
        assert b.number_display in page_b and a.number_display not in page_b
    assert len(views._pages) == 4  # each before and after its first view's 閲覧済


def test_a_reissued_key_ends_the_grant_though_the_page_is_kept(guarantee, staff):
    browser = opened(guarantee)
    page(browser, guarantee)

    registry.reissue_key(guarantee=guarantee, by=staff)

    assert browser.get(reverse("dsure:viewer", args=[guarantee.number])).status_code == 404


def test_an_office_user_s_page_is_never_kept(guarantee, official_client):
    opened(guarantee, official_client)

    html = page(official_client, guarantee)

    assert "受領する" in html  # the office's panel, with its forms
    assert len(views._pages) == 0


def test_the_grant_cookie_is_unsigned_once_per_view(guarantee):
    """The viewer checks the grant twice (the page's access, then 閲覧済): one HMAC check."""
    from unittest import mock

    from django.core import signing

    browser = opened(guarantee)
    page(browser, guarantee)

    with mock.patch.object(
        signing.Signer, "unsign_object", autospec=True, side_effect=signing.Signer.unsign_object
    ) as unsign:
        page(browser, guarantee)

    assert unsign.call_count == 1


def test_a_kept_page_is_served_without_building_its_context(guarantee, monkeypatch):
    browser = opened(guarantee)
    page(browser, guarantee)  # 閲覧済 stamped: the row the next pages are kept under
    built = []
    real = views._viewer_context
    monkeypatch.setattr(
        views, "_viewer_context", lambda *args, **kwargs: built.append(1) or real(*args, **kwargs)
    )
    first = page(browser, guarantee)
    assert len(built) == 1  # not kept yet: rendered from its context
    second = page(browser, guarantee)
    assert len(built) == 1  # kept: neither the context nor the template
    assert without_token(first) == without_token(second)
    # A version that does not exist is still a 404, kept pages or not.
    missing = browser.get(reverse("dsure:version", args=[guarantee.number, 9]))
    assert missing.status_code == 404
