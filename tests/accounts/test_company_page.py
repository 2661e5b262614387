"""会社情報 (/company/): a member sees their own company, and nothing of any other."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services
from accounts.models import Company, Membership
from tests.conftest import make_company, make_invitation, make_member, make_user


def test_member_sees_the_company_facts_and_its_members(clerk_client, clerk):
    company = clerk.membership.company
    make_member(company, role=Membership.Role.MEMBER, email="colleague@acme.example.jp")

    response = clerk_client.get("/company/")

    assert response.status_code == 200
    html = response.content.decode()
    for fact in (
        company.corporate_number,
        "ACME建設株式会社",
        "大分県知事許可(般-6)第12345号",
        "〒879-2435",
        "確認済",
        "clerk@acme.example.jp",
        "colleague@acme.example.jp",
        "管理者",
        "担当者",
    ):
        assert fact in html, fact


def test_another_companys_clerk_sees_nothing_of_the_first(client, clerk, other_clerk):
    acme = clerk.membership.company
    make_member(acme, role=Membership.Role.MEMBER, email="colleague@acme.example.jp")
    make_invitation(company=acme, email="invitee@acme.example.jp", by=clerk)
    client.force_login(other_clerk)

    for page in ("/", "/company/"):
        html = client.get(page).content.decode()
        for secret in (
            "ACME建設株式会社",
            acme.corporate_number,
            "clerk@acme.example.jp",
            "colleague@acme.example.jp",
            "invitee@acme.example.jp",
        ):
            assert secret not in html, (page, secret)
    assert "他社建設株式会社" in client.get("/company/").content.decode()


def test_admin_sees_open_invitations_only(clerk_client, clerk):
    acme = clerk.membership.company
    make_invitation(company=acme, email="open@acme.example.jp", by=clerk)
    revoked = make_invitation(company=acme, email="revoked@acme.example.jp", by=clerk)
    services.revoke_invitation(invitation=revoked, by=clerk)

    html = clerk_client.get("/company/").content.decode()

    assert "open@acme.example.jp" in html
    assert "revoked@acme.example.jp" not in html


def test_user_without_company_is_sent_to_register(client, db):
    client.force_login(make_user())
    response = client.get("/company/", follow=True)
    assert response.redirect_chain == [(reverse("accounts:register"), 302)]
    assert "はじめに会社情報を登録してください。" in response.content.decode()


def test_pending_company_page_says_awaiting_verification(client, pending_clerk):
    client.force_login(pending_clerk)
    html = client.get("/company/").content.decode()
    assert Company.Status.PENDING.label in html


def _queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_company_page_queries_do_not_grow_with_members(client, db):
    small = make_company()
    small_admin = make_member(small)
    big = make_company()
    big_admin = make_member(big)
    for i in range(30):
        make_member(big, role=Membership.Role.MEMBER, email=f"m{i}@big.example.jp")
        make_invitation(company=big, email=f"i{i}@big.example.jp", by=big_admin)

    client.force_login(small_admin)
    baseline = _queries(client, "/company/")
    client.force_login(big_admin)

    assert _queries(client, "/company/") == baseline
    assert baseline <= 8


def test_home_queries_do_not_grow_with_invitations(client, db):
    invitee = make_user("wanted@example.jp")
    client.force_login(invitee)
    make_invitation(email="wanted@example.jp")
    baseline = _queries(client, "/")
    for _ in range(10):
        make_invitation(email="wanted@example.jp")

    assert _queries(client, "/") == baseline
