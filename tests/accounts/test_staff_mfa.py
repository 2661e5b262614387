"""Surety staff reach admin only with TOTP (ESURE_STAFF_MFA_REQUIRED), and only via allauth."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.middleware import MSG_SET_UP_MFA
from tests.conftest import PASSWORD, make_staff

STAFF_SECRET = "JBSWY3DPEHPK3PXP"  # the secret make_staff() gives every staff TOTP device


def totp(secret, step=0):
    """The code an authenticator app shows now (step=-1: the previous one)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + step))


def logged_in(client):
    return "_auth_user_id" in client.session


def follow(client, url):
    """GET url and follow redirects; a loop fails with the path it went round."""
    chain = [url]
    response = client.get(url)
    while response.status_code in (301, 302):
        chain.append(response["Location"])
        assert chain[-1] not in chain[:-1], f"redirect loop: {' -> '.join(chain)}"
        response = client.get(chain[-1])
    return response


@pytest.fixture(autouse=True)
def _mfa_required(settings):
    settings.ESURE_STAFF_MFA_REQUIRED = True


@pytest.fixture
def staff_without_totp(db):
    return make_staff(with_totp=False, email="new-staff@surety.example.jp")


@pytest.fixture
def bare_staff_client(client, staff_without_totp):
    client.force_login(staff_without_totp)
    return client


def _admin_pages():
    return [
        reverse("admin:index"),
        reverse("admin:accounts_company_changelist"),
        reverse("admin:accounts_orderer_add"),
        reverse("admin:accounts_user_changelist"),
    ]


@pytest.mark.parametrize("path", ["/", "/company/", "/company/register/", *_admin_pages()])
def test_staff_without_totp_is_sent_to_totp_setup(bare_staff_client, path):
    response = bare_staff_client.get(path)

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert [m.message for m in get_messages(response.wsgi_request)] == [MSG_SET_UP_MFA]


def test_staff_without_totp_cannot_post_admin_actions(bare_staff_client):
    response = bare_staff_client.post(reverse("admin:accounts_company_changelist"), {})
    assert response["Location"] == reverse("mfa_activate_totp")


def test_staff_without_totp_can_log_out(bare_staff_client):
    response = bare_staff_client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert response["Location"] != reverse("mfa_activate_totp")
    assert not logged_in(bare_staff_client)


def test_staff_without_totp_can_reach_the_setup_form(bare_staff_client):
    # allauth asks for the password again before adding a device (it does not count the
    # login itself); the middleware must let the staff user through that step.
    response = follow(bare_staff_client, reverse("mfa_activate_totp"))

    assert response.status_code == 200
    final = response.wsgi_request.path
    assert final in (reverse("mfa_activate_totp"), reverse("account_reauthenticate"))


def test_staff_logs_in_sets_up_totp_and_reaches_admin(client, staff_without_totp):
    # The whole first day of a new staff member, through the pages.
    response = client.post(
        reverse("account_login"), {"login": staff_without_totp.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert logged_in(client)
    assert client.get(reverse("admin:index"))["Location"] == reverse("mfa_activate_totp")

    response = follow(client, reverse("mfa_activate_totp"))
    if response.wsgi_request.path == reverse("account_reauthenticate"):
        response = client.post(
            reverse("account_reauthenticate"),
            {"password": PASSWORD, "next": reverse("mfa_activate_totp")},
            follow=True,
        )
    assert response.wsgi_request.path == reverse("mfa_activate_totp")
    assert response.status_code == 200
    secret = client.session["mfa.totp.secret"]

    response = client.post(reverse("mfa_activate_totp"), {"code": totp(secret)})

    assert response.status_code == 302
    assert Authenticator.objects.filter(
        user=staff_without_totp, type=Authenticator.Type.TOTP
    ).exists()
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize("path", ["/", *_admin_pages()])
def test_staff_with_totp_reaches_every_page(client, staff, path):
    client.force_login(staff)
    assert client.get(path).status_code == 200


def test_non_staff_user_is_not_affected(clerk_client):
    assert clerk_client.get("/").status_code == 200
    assert clerk_client.get("/company/").status_code == 200


def test_with_the_setting_off_staff_without_totp_reaches_admin(settings, bare_staff_client):
    settings.ESURE_STAFF_MFA_REQUIRED = False
    assert bare_staff_client.get(reverse("admin:index")).status_code == 200
    assert bare_staff_client.get("/").status_code == 200


def test_logged_in_non_staff_user_gets_no_admin(clerk_client):
    response = clerk_client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403


# Logging in -------------------------------------------------------------------------------


def test_admins_own_login_form_does_not_log_in(client, staff):
    admin_login = reverse("admin:login")

    response = client.post(
        admin_login,
        {"username": staff.email, "password": PASSWORD, "next": reverse("admin:index")},
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")
    assert not logged_in(client)
    assert client.get(reverse("admin:index")).status_code == 302


def test_admin_login_page_sends_to_allauths_login(client, db):
    response = client.get(reverse("admin:index"), follow=True)
    assert response.wsgi_request.path == reverse("account_login")
    assert response.redirect_chain[-1][0].startswith(reverse("account_login") + "?next=")


def test_staff_with_totp_must_enter_a_code_after_the_password(client, staff):
    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert not logged_in(client)
    assert client.get(reverse("admin:index")).status_code == 302

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert not logged_in(client)

    response = client.post(reverse("mfa_authenticate"), {"code": totp(STAFF_SECRET)})

    assert response.status_code == 302
    assert logged_in(client)
    assert client.get(reverse("admin:index")).status_code == 200


def test_wrong_password_never_reaches_the_code_stage(client, staff):
    response = client.post(
        reverse("account_login"), {"login": staff.email, "password": "wrong-password"}
    )
    assert response.status_code == 200
    assert not logged_in(client)
    assert client.get(reverse("mfa_authenticate"))["Location"] == reverse("account_login")
