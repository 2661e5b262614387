"""A company administrator invites colleagues by e-mail; the invitee joins from HOME.

There is no token: the invitation is bound to an address that allauth has verified.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts import services
from accounts.models import Invitation, Membership
from tests.conftest import (
    PASSWORD,
    advance_office,
    make_bank_branch,
    make_bank_user,
    make_company,
    make_invitation,
    make_member,
    make_office_user,
    make_orderer,
    make_staff,
    make_user,
)

INVITE = "/company/invitations/"
COLLEAGUE = "colleague@acme.example.jp"


def accept_url(invitation):
    return f"/company/invitations/{invitation.pk}/accept/"


def revoke_url(invitation):
    return f"/company/invitations/{invitation.pk}/revoke/"


@pytest.fixture
def acme(clerk):
    return clerk.membership.company


# Inviting ---------------------------------------------------------------------------------


def test_admin_invites_a_colleague_and_a_mail_without_secret_is_sent(
    clerk_client, clerk, acme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = clerk_client.post(INVITE, {"email": COLLEAGUE}, follow=True)

    assert response.redirect_chain == [("/company/", 302)]
    invitation = Invitation.objects.get()
    assert (invitation.company, invitation.email, invitation.invited_by) == (
        acme,
        COLLEAGUE,
        clerk,
    )
    assert invitation.is_open
    html = response.content.decode()
    assert f"{COLLEAGUE} に招待のお知らせを送信しました。" in html
    assert "招待中" in html

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [COLLEAGUE]
    assert message.subject == "[esure] ACME建設株式会社 から招待が届いています"
    assert "clerk@acme.example.jp 様から" in message.body
    # The only link is the public sign-up page: nothing that would let a reader of the
    # mail join without owning the address.
    assert re.findall(r"https?://\S+", message.body) == ["http://127.0.0.1:8000/accounts/signup/"]


def test_invited_address_is_stored_lower_case(clerk_client):
    clerk_client.post(INVITE, {"email": " Colleague@ACME.example.jp "})
    assert Invitation.objects.get().email == COLLEAGUE


@pytest.mark.parametrize("typed", [COLLEAGUE, "COLLEAGUE@acme.example.jp"])
def test_a_second_open_invitation_is_refused(clerk_client, clerk, acme, typed):
    make_invitation(company=acme, email=COLLEAGUE, by=clerk)

    response = clerk_client.post(INVITE, {"email": typed})

    assert response.status_code == 400
    assert services.MSG_ALREADY_INVITED in response.content.decode()
    assert response.context["form"].errors["email"] == [services.MSG_ALREADY_INVITED]
    assert Invitation.objects.count() == 1


def test_a_revoked_invitation_can_be_renewed(clerk_client, clerk, acme):
    old = make_invitation(company=acme, email=COLLEAGUE, by=clerk)
    services.revoke_invitation(invitation=old, by=clerk)

    response = clerk_client.post(INVITE, {"email": COLLEAGUE})

    assert response.status_code == 302
    assert Invitation.objects.filter(revoked_at=None).count() == 1


def test_inviting_a_current_member_is_refused(clerk_client, acme):
    make_member(acme, role=Membership.Role.MEMBER, email=COLLEAGUE)
    response = clerk_client.post(INVITE, {"email": COLLEAGUE})
    assert response.status_code == 400
    assert response.context["form"].errors["email"] == [services.MSG_ALREADY_IN_COMPANY]
    assert not Invitation.objects.exists()


def test_invalid_address_is_refused_next_to_the_field(clerk_client):
    response = clerk_client.post(INVITE, {"email": "not-an-address"})
    assert response.status_code == 400
    assert response.context["form"]["email"].errors
    assert 'value="not-an-address"' in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_plain_member_cannot_invite(client, acme):
    member = make_member(acme, role=Membership.Role.MEMBER)
    client.force_login(member)

    response = client.post(INVITE, {"email": COLLEAGUE})

    assert response.status_code == 403
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_a_plain_member_does_not_see_the_invitation_form(client, clerk, acme):
    make_invitation(company=acme, email=COLLEAGUE, by=clerk)
    client.force_login(make_member(acme, role=Membership.Role.MEMBER))

    html = client.get("/company/").content.decode()

    assert "ACME建設株式会社" in html
    assert f'action="{INVITE}"' not in html
    assert COLLEAGUE not in html


def test_a_user_without_company_is_sent_to_register_instead_of_inviting(client, db):
    client.force_login(make_user())
    response = client.post(INVITE, {"email": COLLEAGUE})
    assert response["Location"] == reverse("accounts:register")
    assert not Invitation.objects.exists()


def test_service_refuses_an_inviter_who_is_not_admin_of_that_company(db):
    acme = make_company()
    other_admin = make_member()
    with pytest.raises(services.PermissionDenied):
        services.invite_member(company=acme, email=COLLEAGUE, by=other_admin)


# Joining ----------------------------------------------------------------------------------


def test_invitee_signs_up_verifies_sees_the_invitation_and_joins(client, clerk, acme):
    invitation = make_invitation(company=acme, email=COLLEAGUE, by=clerk)
    mail.outbox.clear()

    response = client.post(
        reverse("account_signup"),
        {"email": COLLEAGUE, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    (confirmation,) = mail.outbox
    assert confirmation.to == [COLLEAGUE]
    confirm_path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", confirmation.body)
    response = client.post(confirm_path.group(1))
    assert response.status_code == 302

    home = client.get("/").content.decode()
    assert "会社からの招待" in home
    assert "ACME建設株式会社" in home
    assert f'action="{accept_url(invitation)}"' in home

    response = client.post(accept_url(invitation), follow=True)

    membership = Membership.objects.get(user__email=COLLEAGUE)
    assert (membership.company, membership.role) == (acme, Membership.Role.MEMBER)
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert not invitation.is_open
    html = response.content.decode()
    assert "ACME建設株式会社 に参加しました。" in html
    assert "会社からの招待" not in html


def test_an_unverified_address_does_not_reveal_or_accept_the_invitation(client, clerk, acme):
    # Logged in with a verified address, the user adds the invited one without verifying it.
    user = make_user()
    EmailAddress.objects.create(user=user, email=COLLEAGUE, verified=False, primary=False)
    invitation = make_invitation(company=acme, email=COLLEAGUE, by=clerk)
    client.force_login(user)

    assert "ACME建設株式会社" not in client.get("/").content.decode()
    assert client.post(accept_url(invitation)).status_code == 404
    assert not Membership.objects.filter(user=user).exists()


def test_invitation_matches_a_verified_address_in_any_case(client, clerk, acme):
    invitee = make_user("Colleague@Acme.Example.JP")
    invitation = make_invitation(company=acme, email=COLLEAGUE, by=clerk)
    client.force_login(invitee)

    response = client.post(accept_url(invitation))

    assert response.status_code == 302
    assert Membership.objects.get(user=invitee).company == acme


def test_invitation_for_another_address_is_404(client, clerk, acme):
    invitation = make_invitation(company=acme, email=COLLEAGUE, by=clerk)
    stranger = make_user("stranger@example.jp")
    client.force_login(stranger)

    assert "ACME建設株式会社" not in client.get("/").content.decode()
    assert client.post(accept_url(invitation)).status_code == 404
    assert not Membership.objects.filter(user=stranger).exists()
    invitation.refresh_from_db()
    assert invitation.is_open


def test_unknown_invitation_is_404(client, db):
    client.force_login(make_user())
    assert client.post("/company/invitations/999999/accept/").status_code == 404


def test_a_member_of_another_company_cannot_join_a_second(client, clerk, acme):
    invitee = make_member(email=COLLEAGUE)
    invitation = make_invitation(company=acme, email=COLLEAGUE, by=clerk)
    client.force_login(invitee)

    response = client.post(accept_url(invitation), follow=True)

    assert services.MSG_ALREADY_MEMBER in response.content.decode()
    assert Membership.objects.get(user=invitee).company != acme
    invitation.refresh_from_db()
    assert invitation.is_open


@pytest.mark.parametrize("role", ["office user", "bank user", "staff"])
def test_someone_with_another_role_cannot_join_a_company(client, clerk, acme, role):
    # One person, one role: the same check as for office and bank invitations.
    invitee = {
        "office user": lambda: make_office_user(advance_office(make_orderer()), email=COLLEAGUE),
        "bank user": lambda: make_bank_user(make_bank_branch(), email=COLLEAGUE),
        "staff": lambda: make_staff(email=COLLEAGUE),
    }[role]()
    invitation = make_invitation(company=acme, email=COLLEAGUE, by=clerk)
    client.force_login(invitee)

    response = client.post(accept_url(invitation), follow=True)

    assert services.MSG_HAS_OTHER_ROLE in response.content.decode()
    assert not Membership.objects.filter(user=invitee).exists()
    invitation.refresh_from_db()
    assert invitation.is_open


def test_an_office_user_cannot_register_a_company(db):
    office_user = make_office_user(advance_office(make_orderer()))
    with pytest.raises(services.ValidationError) as error:
        services.register_company(
            user=office_user, corporate_number=make_company().corporate_number
        )
    assert error.value.messages == [services.MSG_HAS_OTHER_ROLE]


def test_an_accepted_invitation_cannot_be_used_twice(clerk, acme):
    invitation = make_invitation(company=acme, email=COLLEAGUE, by=clerk)
    services.accept_invitation(invitation=invitation, user=make_user(COLLEAGUE))
    with pytest.raises(services.ValidationError):
        services.accept_invitation(invitation=invitation, user=make_user())


# Revoking ---------------------------------------------------------------------------------


def test_admin_revokes_an_invitation(clerk_client, clerk, acme, client_for):
    invitation = make_invitation(company=acme, email=COLLEAGUE, by=clerk)

    response = clerk_client.post(revoke_url(invitation), follow=True)

    assert response.redirect_chain == [("/company/", 302)]
    assert f"{COLLEAGUE} への招待を取り消しました。" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None

    # The invitee no longer sees it, nor can accept it.
    invitee = client_for(make_user(COLLEAGUE))
    assert "ACME建設株式会社" not in invitee.get("/").content.decode()
    assert invitee.post(accept_url(invitation)).status_code == 404
    assert not Membership.objects.filter(user__email=COLLEAGUE).exists()


def test_revoking_an_accepted_invitation_does_not_claim_to_revoke_it(clerk_client, clerk, acme):
    invitation = make_invitation(company=acme, email=COLLEAGUE, by=clerk)
    services.accept_invitation(invitation=invitation, user=make_user(COLLEAGUE))

    response = clerk_client.post(revoke_url(invitation), follow=True)

    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert Membership.objects.filter(user__email=COLLEAGUE, company=acme).exists()
    # Nothing was revoked: the admin must not be told otherwise.
    assert "への招待を取り消しました" not in response.content.decode()


def test_another_companys_admin_cannot_revoke(client, clerk, other_clerk, acme):
    invitation = make_invitation(company=acme, email=COLLEAGUE, by=clerk)
    client.force_login(other_clerk)

    assert client.post(revoke_url(invitation)).status_code == 404
    invitation.refresh_from_db()
    assert invitation.is_open


def test_a_plain_member_cannot_revoke(client, clerk, acme):
    invitation = make_invitation(company=acme, email=COLLEAGUE, by=clerk)
    client.force_login(make_member(acme, role=Membership.Role.MEMBER))

    assert client.post(revoke_url(invitation)).status_code == 404
    invitation.refresh_from_db()
    assert invitation.is_open


# Methods and anonymous access -------------------------------------------------------------


@pytest.mark.parametrize(
    "url", [INVITE, "/company/invitations/1/revoke/", "/company/invitations/1/accept/"]
)
def test_post_only_urls_refuse_get(clerk_client, url):
    assert clerk_client.get(url).status_code == 405


@pytest.mark.parametrize(
    "url", [INVITE, "/company/invitations/1/revoke/", "/company/invitations/1/accept/"]
)
def test_anonymous_post_is_sent_to_login(client, db, url):
    response = client.post(url, {"email": COLLEAGUE})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"
    assert not Invitation.objects.exists()
