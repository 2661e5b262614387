"""Sessions of logged-in users end 12 hours after the login and after 1 hour without a request
(settings ESURE_SESSION_MAX_HOURS / ESURE_SESSION_IDLE_MINUTES, decision 0009): the next
request is logged out and sent to the login page, which says why."""

import datetime

import pytest
from django.urls import reverse

from accounts.middleware import MSG_SESSION_ENDED
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")
MINUTE = datetime.timedelta(minutes=1)
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def browser(client_for, clerk, frozen):
    return client_for(clerk)  # logged in at NOW


def page(browser):
    return browser.get(reverse("certs:index"))


def assert_logged_out(response, browser):
    login = reverse("account_login")
    assert response.status_code == 302
    assert response["Location"] == f"{login}?next={reverse('certs:index')}"
    assert "_auth_user_id" not in browser.session
    assert MSG_SESSION_ENDED in browser.get(response["Location"]).content.decode()


def test_an_hour_without_a_request_is_still_logged_in(browser, frozen):
    frozen.shift(60 * MINUTE)
    assert page(browser).status_code == 200


def test_an_hour_and_a_second_without_a_request_logs_out(browser, frozen):
    frozen.shift(60 * MINUTE + SECOND)
    assert_logged_out(page(browser), browser)


def test_each_request_restarts_the_idle_hour(browser, frozen):
    frozen.shift(59 * MINUTE)
    assert page(browser).status_code == 200
    frozen.shift(59 * MINUTE)  # 118 minutes after the login, 59 after the last request
    assert page(browser).status_code == 200


def test_twelve_hours_after_the_login_the_session_ends_however_busy(browser, frozen):
    for _ in range(14):  # a request every 50 minutes: never idle for an hour
        frozen.shift(50 * MINUTE)
        assert page(browser).status_code == 200
    frozen.move_to(NOW + datetime.timedelta(hours=12))
    assert page(browser).status_code == 200  # at 12 h exactly: still in
    frozen.shift(SECOND)
    assert_logged_out(page(browser), browser)


def test_the_limits_are_settings(browser, frozen, settings):
    settings.ESURE_SESSION_IDLE_MINUTES = 5
    frozen.shift(5 * MINUTE)
    assert page(browser).status_code == 200
    frozen.shift(5 * MINUTE + SECOND)
    assert_logged_out(page(browser), browser)


def test_a_request_within_a_minute_writes_no_session(browser, frozen):
    assert page(browser).status_code == 200
    frozen.shift(30 * SECOND)
    before = dict(browser.session.items())
    page(browser)
    assert dict(browser.session.items()) == before


def test_staff_sessions_end_too(client_for, staff, frozen):
    browser = client_for(staff)
    frozen.shift(60 * MINUTE + SECOND)
    response = browser.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in browser.session
