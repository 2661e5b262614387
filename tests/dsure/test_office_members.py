"""Orderer onboarding (issue 13, decision 0018): surety staff create an orderer's first
管理者 in admin; that 管理者 invites colleagues by e-mail (bound to the address, as for
companies), assigns them to the orderer's offices and removes them. Other office users
get 403, another orderer's people 404, anonymous visitors the login."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import OfficeInvitation, OfficeMembership
from tests.conftest import advance_office, make_member, make_office_user, make_orderer, make_user

MEMBERS = reverse("dsure:members")
INVITE = reverse("dsure:invite")
COLLEAGUE = "keiyaku@city.tsukumi.example.jp"


@pytest.fixture
def office(tsukumi):
    return advance_office(tsukumi)  # 土木課 工事担当


@pytest.fixture
def contract_office(tsukumi):
    return tsukumi.offices.get(name="総務課 契約担当")


@pytest.fixture
def admin(office):
    user = make_office_user(office, email="kanri@city.tsukumi.example.jp")
    OfficeMembership.objects.filter(user=user).update(role=OfficeMembership.Role.ADMIN)
    return user


@pytest.fixture
def admin_client(client_for, admin):
    return client_for(admin)


def test_staff_create_the_first_administrator_in_admin(client_for, staff, office):
    user = make_user(email="first@city.tsukumi.example.jp")
    browser = client_for(staff)
    url = reverse("admin:accounts_officemembership_add")

    data = {"user": user.pk, "office": office.pk, "role": "admin"}
    data.update(created_at_0="2026-11-30", created_at_1="10:00:00")
    response = browser.post(url, data)

    assert response.status_code == 302, response.content.decode().split("errorlist")[1][:500]
    assert OfficeMembership.objects.get(user=user).is_admin


def test_an_administrator_invites_a_colleague_who_joins(
    admin_client, contract_office, client_for, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(INVITE, {"email": COLLEAGUE, "office": contract_office.pk})

    assert response.status_code == 302
    invitation = OfficeInvitation.objects.get()
    assert (invitation.email, invitation.office) == (COLLEAGUE, contract_office)
    [message] = mail.outbox
    assert message.to == [COLLEAGUE] and str(contract_office) in message.subject
    page = admin_client.get(MEMBERS).content.decode()
    assert f"{COLLEAGUE} → 総務課 契約担当" in page

    colleague = client_for(make_user(email=COLLEAGUE))
    home = colleague.get("/").content.decode()
    assert f"<strong>{contract_office}</strong> の利用者として招待されています" in home
    accept = reverse("accounts:accept_office_invitation", args=[invitation.pk])
    response = colleague.post(accept)
    assert response["Location"] == reverse("dsure:inbox")
    joined = OfficeMembership.objects.get(user__email=COLLEAGUE)
    assert (joined.office, joined.role) == (contract_office, OfficeMembership.Role.MEMBER)
    assert colleague.get(reverse("dsure:inbox")).status_code == 200


def test_a_second_invitation_or_a_bad_address_keeps_the_form(admin_client, office):
    admin_client.post(INVITE, {"email": COLLEAGUE, "office": office.pk})

    again = admin_client.post(INVITE, {"email": COLLEAGUE.upper(), "office": office.pk})
    assert again.status_code == 400
    assert services.MSG_OFFICE_ALREADY_INVITED in again.content.decode()
    bad = admin_client.post(INVITE, {"email": "not-an-address", "office": office.pk})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "メールアドレスの形式で入力してください。" in html and 'value="not-an-address"' in html
    assert OfficeInvitation.objects.count() == 1


def test_another_orderers_office_cannot_be_chosen(admin_client):
    elsewhere = advance_office(make_orderer("臼杵市"))

    response = admin_client.post(INVITE, {"email": COLLEAGUE, "office": elsewhere.pk})

    assert response.status_code == 400
    assert "発注機関・担当課を一覧から選んでください。" in response.content.decode()
    assert not OfficeInvitation.objects.exists()


def test_someone_with_another_role_cannot_join(admin, office, clerk, client_for):
    invitation = services.invite_office_user(office=office, email=clerk.email, by=admin)

    response = client_for(clerk).post(
        reverse("accounts:accept_office_invitation", args=[invitation.pk]), follow=True
    )

    assert services.MSG_HAS_OTHER_ROLE in response.content.decode()
    assert not OfficeMembership.objects.filter(user=clerk).exists()


def test_assigning_and_removing_a_colleague(admin_client, admin, office, contract_office):
    colleague = make_office_user(office, email=COLLEAGUE)
    membership = colleague.office_membership

    admin_client.post(reverse("dsure:assign", args=[membership.pk]), {"office": contract_office.pk})
    membership.refresh_from_db()
    assert membership.office == contract_office

    response = admin_client.post(reverse("dsure:remove", args=[membership.pk]), follow=True)
    assert f"{colleague} を利用者から削除しました。" in response.content.decode()
    assert not OfficeMembership.objects.filter(user=colleague).exists()
    browser = Client()
    browser.force_login(colleague)
    assert browser.get(reverse("dsure:inbox")).status_code == 403


def test_an_administrator_cannot_remove_themself(admin_client, admin):
    own = admin.office_membership

    assert (
        f'action="{reverse("dsure:remove", args=[own.pk])}"'
        not in admin_client.get(MEMBERS).content.decode()
    )
    response = admin_client.post(reverse("dsure:remove", args=[own.pk]), follow=True)
    assert services.MSG_CANNOT_REMOVE_SELF in response.content.decode()
    assert OfficeMembership.objects.filter(user=admin).exists()


def test_revoking_an_invitation_closes_it(admin_client, admin, office, client_for):
    invitation = services.invite_office_user(office=office, email=COLLEAGUE, by=admin)

    admin_client.post(reverse("dsure:revoke", args=[invitation.pk]))

    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    colleague = client_for(make_user(email=COLLEAGUE))
    accept = reverse("accounts:accept_office_invitation", args=[invitation.pk])
    assert colleague.post(accept).status_code == 404


def test_another_orderers_people_are_404(admin_client, admin):
    usuki = advance_office(make_orderer("臼杵市"))
    stranger = make_office_user(usuki).office_membership
    invitation = OfficeInvitation.objects.create(
        office=usuki, email="x@usuki.example.jp", invited_by=admin
    )

    for url in (
        reverse("dsure:assign", args=[stranger.pk]),
        reverse("dsure:remove", args=[stranger.pk]),
        reverse("dsure:revoke", args=[invitation.pk]),
    ):
        assert admin_client.post(url, {"office": usuki.pk}).status_code == 404, url
    assert OfficeMembership.objects.filter(pk=stranger.pk, office=usuki).exists()
    with pytest.raises(PermissionDenied):  # the service refuses too, whoever calls it
        services.invite_office_user(office=usuki, email="y@usuki.example.jp", by=admin)


def test_a_member_who_is_not_administrator_gets_403(office, client_for):
    member = client_for(make_office_user(office))

    assert member.get(MEMBERS).status_code == 403
    assert member.post(INVITE, {"email": COLLEAGUE, "office": office.pk}).status_code == 403
    assert not OfficeInvitation.objects.exists()


def test_anonymous_is_sent_to_the_login_and_get_is_405_for_writes(admin_client, db):
    response = Client().get(MEMBERS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert admin_client.get(INVITE).status_code == 405
    assert admin_client.post(MEMBERS).status_code == 405


def test_a_contractor_clerk_gets_403(client_for, office):
    clerk = make_member(email="someone@acme.example.jp")
    assert client_for(clerk).get(MEMBERS).status_code == 403


def test_staff_set_an_offices_notification_address_in_admin(client_for, staff, office):
    url = reverse("admin:accounts_ordereroffice_change", args=[office.pk])
    data = {
        "orderer": office.orderer_id,
        "name": office.name,
        "handles_kinds": office.handles_kinds,
        "notification_email": "doboku-box@city.tsukumi.example.jp",
    }

    response = client_for(staff).post(url, data)

    assert response.status_code == 302
    office.refresh_from_db()
    assert office.notification_email == "doboku-box@city.tsukumi.example.jp"
