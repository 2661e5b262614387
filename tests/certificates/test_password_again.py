"""Showing a 認証キー (on screen or in the notice PDF) and re-issuing one ask for the password
again (allauth's reauthentication, decision 0009): a session left open, or taken over, does
not reveal or replace the key on a click. After the password the request resumes."""

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from certificates.models import KeyDisplay, KeyReissue
from tests.conftest import PASSWORD, WORK_DATES, log_in, make_concluded, make_staff

pytestmark = pytest.mark.usefixtures("frozen")
REAUTH = reverse("account_reauthenticate")


@pytest.fixture
def guarantee(clerk, tsukumi):
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    return guarantee


def logged_in_only(user):
    """Logged in (force_login), the password not typed again."""
    browser = Client()
    browser.force_login(user)
    return browser


def key_url(g):
    return reverse("certs:show_key", args=[g.number])


def notice_url(g):
    return reverse("certs:key_notice", args=[g.number])


def reissue_url(g):
    return reverse("admin:certificates_guarantee_reissue_key", args=[g.pk])


@pytest.mark.parametrize("url", [key_url, notice_url])
def test_the_key_needs_the_password_again(clerk, guarantee, url):
    browser = logged_in_only(clerk)

    asked = browser.post(url(guarantee))
    wrong = browser.post(REAUTH, {"password": "not-the-password-at-all", "next": url(guarantee)})

    assert asked.status_code == 302
    assert asked["Location"] == f"{REAUTH}?next={url(guarantee).replace('/', '%2F')}"
    assert wrong.status_code == 200 and b"%PDF" not in wrong.content
    assert not KeyDisplay.objects.exists()


def test_after_the_password_the_key_is_shown(clerk, guarantee):
    browser = logged_in_only(clerk)
    browser.post(key_url(guarantee))

    shown = browser.post(REAUTH, {"password": PASSWORD, "next": key_url(guarantee)})

    assert shown.status_code == 200
    assert "data-key" in shown.content.decode()
    assert KeyDisplay.objects.get().via == KeyDisplay.Via.SCREEN


def test_after_the_password_the_notice_downloads(clerk, guarantee):
    browser = logged_in_only(clerk)
    browser.post(notice_url(guarantee))

    notice = browser.post(REAUTH, {"password": PASSWORD, "next": notice_url(guarantee)})

    assert notice.status_code == 200
    assert notice["Content-Type"] == "application/pdf"
    assert KeyDisplay.objects.get().via == KeyDisplay.Via.KEY_NOTICE


def test_the_password_counts_for_five_minutes(clerk, guarantee, frozen):
    browser = log_in(Client(), clerk)  # the password typed again at NOW
    frozen.shift(datetime.timedelta(seconds=299))
    assert browser.post(key_url(guarantee)).status_code == 200
    frozen.shift(datetime.timedelta(seconds=2))
    assert browser.post(key_url(guarantee))["Location"].startswith(REAUTH)


def test_a_key_reissue_needs_the_password_again(
    staff, guarantee, django_capture_on_commit_callbacks
):
    browser = logged_in_only(staff)

    with django_capture_on_commit_callbacks(execute=True):
        asked = browser.post(reissue_url(guarantee), {"reason": "誤送信"})

    assert asked.status_code == 302 and asked["Location"].startswith(REAUTH)
    guarantee.refresh_from_db()
    assert guarantee.key_version == 1
    assert not KeyReissue.objects.exists()
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        done = browser.post(REAUTH, {"password": PASSWORD, "next": reissue_url(guarantee)})

    assert done.status_code == 302
    guarantee.refresh_from_db()
    assert guarantee.key_version == 2
    assert KeyReissue.objects.get().reason == "誤送信"
    assert len(mail.outbox) == 1


def test_staff_without_the_permission_get_403_without_a_password_question(guarantee):
    browser = logged_in_only(make_staff(perms=["certificates.view_guarantee"]))

    response = browser.post(reissue_url(guarantee))

    assert response.status_code == 403
    guarantee.refresh_from_db()
    assert guarantee.key_version == 1
