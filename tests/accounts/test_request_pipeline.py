"""A logged-in request's session and user, each read by a statement compiled once per process
(esure.sessions, accounts.backends; decision 0051): the same rows as the ORM's queries, and
every way a session ends still ends it at the next request."""

import datetime
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import backends
from accounts.backends import ModelBackend
from accounts.models import Membership, User
from esure.sessions import SessionStore
from tests.conftest import PASSWORD, make_staff


def test_the_user_and_membership_are_the_orms(clerk, django_assert_num_queries):
    expected = User.objects.select_related("membership__company").get(pk=clerk.pk)

    with django_assert_num_queries(1):
        user = ModelBackend().get_user(str(clerk.pk))  # as the session holds it
        membership, company = user.membership, user.membership.company

    for model, got, want in [
        (User, user, expected),
        (Membership, membership, expected.membership),
        (type(company), company, expected.membership.company),
    ]:
        for field in model._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(want, field.attname), field.name
        assert not got._state.adding
    assert membership.user is user


def test_a_user_without_membership_has_none_cached(db, django_assert_num_queries):
    staff = make_staff(email="staff@surety.example.jp")
    user = ModelBackend().get_user(staff.pk)

    with django_assert_num_queries(0), pytest.raises(Membership.DoesNotExist):
        user.membership  # noqa: B018


def test_an_unknown_user_is_none(db):
    assert ModelBackend().get_user(987654321) is None


def test_the_users_statement_is_compiled_once(clerk, other_clerk, monkeypatch):
    monkeypatch.setattr(backends._USER, "_compiled", {})
    with mock.patch.object(backends._USER, "_compile", wraps=backends._USER._compile) as compile_:
        assert backends.load_user(clerk.pk).email == "clerk@acme.example.jp"
        assert backends.load_user(str(other_clerk.pk)).email == "clerk@other.example.jp"

    assert compile_.call_count == 1


def test_a_session_loads_in_one_statement(db):
    session = SessionStore()
    session["answer"] = 42
    session.save()

    with CaptureQueriesContext(connection) as queries:
        assert SessionStore(session.session_key).load() == {"answer": 42}

    assert len(queries) == 1
    assert "django_session" in queries[0]["sql"]


def test_an_expired_or_unknown_session_loads_empty_and_forgets_its_key(db):
    session = SessionStore()
    session["answer"] = 42
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )

    for key in [session.session_key, "x" * 32]:
        store = SessionStore(key)
        assert store.load() == {}
        assert store.session_key is None


@pytest.mark.parametrize(("seconds_left", "loads"), [(-1, False), (0, False), (1, True)])
def test_a_session_loads_until_its_expiry_date_and_not_at_it(db, frozen, seconds_left, loads):
    session = SessionStore()
    session["answer"] = 42
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + datetime.timedelta(seconds=seconds_left)
    )

    assert SessionStore(session.session_key).load() == ({"answer": 42} if loads else {})


# Every way a session ends still ends it at the next request.


def assert_sent_to_login(response):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_deactivated_users_session_ends_at_the_next_request(client_for, clerk):
    browser = client_for(clerk)
    assert browser.get(reverse("certs:index")).status_code == 200

    User.objects.filter(pk=clerk.pk).update(is_active=False)

    assert_sent_to_login(browser.get(reverse("certs:index")))


def test_a_password_change_elsewhere_ends_the_session(client_for, clerk):
    browser = client_for(clerk)
    assert browser.get(reverse("certs:index")).status_code == 200

    clerk.set_password(PASSWORD + "-new")
    clerk.save()

    assert_sent_to_login(browser.get(reverse("certs:index")))


def test_a_logged_out_sessions_cookie_opens_nothing(client_for, clerk):
    browser = client_for(clerk)
    cookie = browser.cookies["sessionid"].value
    browser.post(reverse("account_logout"))

    browser.cookies["sessionid"] = cookie
    assert_sent_to_login(browser.get(reverse("certs:index")))
