"""Roles (decision 0022): the administrator makes members 申込担当 (drafts, saves, edits) or
承認者 (also submits, requests changes, shows the 認証キー). A 申込担当 gets a 403 with a
Japanese message for what only a 承認者 does; every submit records the 承認者."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Membership
from accounts.selectors import MSG_APPROVER_ONLY
from accounts.services import MSG_LAST_APPROVER
from applications.models import Application, StatusChange
from certificates.models import KeyDisplay
from tests.conftest import (
    WORK_DATES,
    log_in,
    make_application,
    make_concluded,
    make_invitation,
    make_member,
    make_user,
    menu1_post,
)

S = Application.Status
DRAFTER = Membership.Duty.DRAFTER
APPROVER = Membership.Duty.APPROVER


@pytest.fixture
def company(clerk):
    return clerk.membership.company


@pytest.fixture
def drafter(company):
    return make_member(company, role=Membership.Role.MEMBER, duty=DRAFTER)


@pytest.fixture
def drafter_client(drafter):
    return log_in(Client(), drafter)  # password typed again: the role decides


def duty_url(user):
    return reverse("accounts:set_duty", args=[user.membership.pk])


def forbidden(response):
    return response.status_code == 403 and MSG_APPROVER_ONLY in response.content.decode()


# --- Who holds which role --------------------------------------------------------------------


def test_the_registering_clerk_of_a_one_person_company_is_its_approver(clerk):
    assert clerk.membership.duty == APPROVER and clerk.membership.can_approve


def test_an_invited_colleague_starts_as_a_drafter(company, clerk):
    invitation = make_invitation(company=company, by=clerk)
    membership = account_services.accept_invitation(
        invitation=invitation, user=make_user(invitation.email)
    )
    assert membership.duty == DRAFTER


def test_the_administrator_gives_a_member_the_approver_role(clerk_client, drafter):
    response = clerk_client.post(duty_url(drafter), {"duty": "approver"})

    assert response.status_code == 302
    drafter.membership.refresh_from_db()
    assert drafter.membership.duty == APPROVER
    page = clerk_client.get(reverse("accounts:company")).content.decode()
    assert "申込担当" in page and "承認者" in page


def test_the_last_approver_cannot_be_made_a_drafter(clerk, clerk_client, drafter):
    response = clerk_client.post(duty_url(clerk), {"duty": "drafter"}, follow=True)

    assert MSG_LAST_APPROVER in response.content.decode()
    clerk.membership.refresh_from_db()
    assert clerk.membership.duty == APPROVER


def test_with_a_second_approver_the_administrator_may_become_a_drafter(
    clerk, clerk_client, drafter
):
    clerk_client.post(duty_url(drafter), {"duty": "approver"})
    clerk_client.post(duty_url(clerk), {"duty": "drafter"})

    clerk.membership.refresh_from_db()
    assert clerk.membership.duty == DRAFTER


def test_an_unknown_role_changes_nothing(clerk_client, drafter):
    clerk_client.post(duty_url(drafter), {"duty": "boss"})
    drafter.membership.refresh_from_db()
    assert drafter.membership.duty == DRAFTER


def test_only_the_administrator_of_the_same_company_assigns_roles(
    clerk, drafter_client, other_clerk, client
):
    assert drafter_client.post(duty_url(clerk), {"duty": "drafter"}).status_code == 404
    other = Client()
    other.force_login(other_clerk)
    assert other.post(duty_url(clerk), {"duty": "drafter"}).status_code == 404
    assert drafter_client.get(duty_url(clerk)).status_code == 405
    anonymous = client.post(duty_url(clerk), {"duty": "drafter"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    clerk.membership.refresh_from_db()
    assert clerk.membership.duty == APPROVER


# --- What a drafter may not do ---------------------------------------------------------------


@pytest.mark.usefixtures("during_the_work")
def test_a_drafter_saves_but_cannot_submit_from_the_form(drafter_client, tsukumi):
    response = drafter_client.post(reverse("applications:new", args=["1"]), menu1_post(tsukumi))

    assert forbidden(response)
    application = Application.objects.get()
    assert application.status == S.DRAFT  # saved, not sent


@pytest.mark.usefixtures("during_the_work")
def test_a_drafter_cannot_submit_a_draft_and_an_approver_can(
    clerk, clerk_client, drafter, drafter_client, company
):
    application = make_application(company=company, by=drafter)
    url = reverse("applications:submit", args=[application.pk])

    assert forbidden(drafter_client.post(url))
    application.refresh_from_db()
    assert application.status == S.DRAFT and application.submitted_by is None

    assert clerk_client.post(url).status_code == 302
    application.refresh_from_db()
    assert (application.status, application.submitted_by) == (S.SUBMITTED, clerk)
    assert StatusChange.objects.get(application=application).by == clerk
    detail = clerk_client.get(reverse("applications:detail", args=[application.pk]))
    assert clerk.email in detail.content.decode()


@pytest.mark.usefixtures("frozen")
def test_a_drafter_cannot_request_a_change_nor_show_the_key(
    clerk, drafter, drafter_client, company, tsukumi
):
    [guarantee] = make_concluded(company=company, **WORK_DATES)
    change = make_application(
        company=company,
        work=guarantee.work,
        menu="5",
        guarantee=guarantee,
        change_kind=Application.ChangeKind.CANCEL,
        cancel_reason="工事の中止",
        items={},
        by=drafter,
    )

    assert forbidden(drafter_client.post(reverse("applications:submit", args=[change.pk])))
    assert forbidden(drafter_client.post(reverse("certs:show_key", args=[guarantee.number])))
    assert forbidden(drafter_client.post(reverse("certs:key_notice", args=[guarantee.number])))
    assert not KeyDisplay.objects.exists()
    change.refresh_from_db()
    assert change.status == S.DRAFT
    # The certificate itself stays readable for the drafter.
    page = drafter_client.get(reverse("certs:detail", args=[guarantee.number]))
    assert page.status_code == 200
