"""Bank users (預託金融機関の担当者): invited by surety staff from admin (bound to the e-mail
address, no token in the mail), joined on HOME, one role per person, and TOTP required
before any page — the session is marked at login, so contractors pay no extra query."""

import re

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from accounts import services
from accounts.middleware import MSG_BANK_SET_UP_MFA
from accounts.models import BankInvitation, BankMembership
from audit.models import AuditEvent
from tests.conftest import PASSWORD, make_bank_branch, make_bank_user, make_company, make_user

INVITEE = "madoguchi@bungo-bank.example.jp"


@pytest.fixture
def branch(db):
    return make_bank_branch()


@pytest.fixture
def staff_client(client_for, staff):
    return client_for(staff)


@pytest.fixture
def invitation(branch, staff):
    return services.invite_bank_user(branch=branch, email=INVITEE, by=staff)


@pytest.fixture(autouse=True)
def _bank_mfa(settings):
    settings.ESURE_BANK_MFA_REQUIRED = True


def test_staff_invite_from_admin_and_the_mail_carries_no_secret(
    staff_client, branch, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:accounts_bankinvitation_add"),
            {"branch": branch.pk, "email": " Madoguchi@Bungo-Bank.example.jp "},
        )
    assert response.status_code == 302
    invitation = BankInvitation.objects.get()
    assert (invitation.email, invitation.branch, invitation.invited_by) == (INVITEE, branch, staff)
    (message,) = mail.outbox
    assert message.to == [INVITEE]
    assert "津久見支店" in message.subject
    assert re.findall(r"https?://\S+", message.body) == ["http://127.0.0.1:8000/accounts/signup/"]
    assert "二段階認証" in message.body
    assert AuditEvent.objects.filter(action="bank_user.invited").exists()


def test_a_second_open_invitation_is_refused_beside_the_field(staff_client, branch, invitation):
    response = staff_client.post(
        reverse("admin:accounts_bankinvitation_add"), {"branch": branch.pk, "email": INVITEE}
    )
    assert response.status_code == 200
    assert services.MSG_BANK_ALREADY_INVITED in response.content.decode()
    assert BankInvitation.objects.count() == 1


def test_only_staff_invite(branch, db):
    with pytest.raises(services.PermissionDenied):
        services.invite_bank_user(branch=branch, email=INVITEE, by=make_user())


def test_the_invitee_joins_on_home_and_must_set_up_totp_first(client, invitation):
    user = make_user(INVITEE)
    client.force_login(user)
    home = client.get(reverse("home")).content.decode()
    assert "津久見支店" in home and "会社情報を登録する" not in home

    response = client.post(reverse("accounts:accept_bank_invitation", args=[invitation.pk]))
    assert response["Location"] == reverse("home")
    assert BankMembership.objects.get(user=user).branch == invitation.branch
    assert AuditEvent.objects.filter(action="bank_user.joined").exists()

    response = client.get(reverse("bank:index"))
    assert response["Location"] == reverse("mfa_activate_totp")
    assert [m.message for m in get_messages(response.wsgi_request)][-1] == MSG_BANK_SET_UP_MFA


def test_an_invitation_for_another_address_is_not_found(client, invitation):
    client.force_login(make_user("someone-else@example.jp"))
    response = client.post(reverse("accounts:accept_bank_invitation", args=[invitation.pk]))
    assert response.status_code == 404
    assert not BankMembership.objects.exists()


@pytest.mark.parametrize("who", ["clerk", "staff"])
def test_one_person_one_role(request, client_for, branch, who):
    user = request.getfixturevalue(who)
    invitation = BankInvitation.objects.create(branch=branch, email=user.email, invited_by=user)
    browser = client_for(user)
    response = browser.post(
        reverse("accounts:accept_bank_invitation", args=[invitation.pk]), follow=True
    )
    assert services.MSG_HAS_OTHER_ROLE in response.content.decode()
    assert not BankMembership.objects.exists()


def test_a_bank_user_cannot_register_a_company(branch):
    banker = make_bank_user(branch)
    with pytest.raises(services.ValidationError) as error:
        services.register_company(user=banker, corporate_number=make_company().corporate_number)
    assert error.value.messages == [services.MSG_HAS_OTHER_ROLE]


def test_a_bank_user_without_totp_is_sent_to_set_it_up_at_login(client, branch):
    banker = make_bank_user(branch, with_totp=False, email=INVITEE)
    client.post(reverse("account_login"), {"login": banker.email, "password": PASSWORD})
    for path in [reverse("home"), reverse("bank:index"), reverse("account_email")]:
        assert client.get(path)["Location"] == reverse("mfa_activate_totp"), path
    assert client.get(reverse("mfa_activate_totp")).status_code in (200, 302)
    assert client.post(reverse("account_logout")).status_code == 302


def test_with_totp_the_bank_pages_open(client_for, branch):
    banker = make_bank_user(branch)
    assert client_for(banker).get(reverse("bank:index")).status_code == 200


def test_the_requirement_can_be_turned_off_for_the_demo(settings, client, branch):
    settings.ESURE_BANK_MFA_REQUIRED = False
    banker = make_bank_user(branch, with_totp=False)
    client.force_login(banker)
    assert client.get(reverse("bank:index")).status_code == 200


def test_staff_revoke_an_invitation(staff_client, invitation):
    staff_client.post(
        reverse("admin:accounts_bankinvitation_changelist"),
        {"action": "revoke", "_selected_action": [invitation.pk]},
    )
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
