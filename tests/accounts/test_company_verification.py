"""Staff verify or suspend a company: the transition table, its history, the mail, the admin."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from accounts import decorators, services
from accounts.models import Company, CompanyStatusChange, Membership
from tests.conftest import make_company, make_member, make_user

Status = Company.Status
ALL_MOVES = [(old, new) for old in Status for new in Status]
ALLOWED_MOVES = [(old, new) for old, new in ALL_MOVES if new in services.COMPANY_ALLOWED[old]]
FORBIDDEN_MOVES = [(old, new) for old, new in ALL_MOVES if (old, new) not in ALLOWED_MOVES]
SERVICE_FOR = {Status.VERIFIED: services.verify_company, Status.SUSPENDED: services.suspend_company}

NOON = datetime.datetime(2026, 4, 1, 12, 0, tzinfo=datetime.UTC)


def _id(move):
    return f"{move[0]}-to-{move[1]}"


def test_the_table_is_the_one_the_design_describes():
    assert ALLOWED_MOVES == [
        (Status.PENDING, Status.VERIFIED),
        (Status.PENDING, Status.SUSPENDED),
        (Status.VERIFIED, Status.SUSPENDED),
        (Status.SUSPENDED, Status.VERIFIED),
    ]


@pytest.mark.parametrize("move", ALLOWED_MOVES, ids=_id)
def test_allowed_move_changes_status_and_writes_history(db, staff, move):
    old, new = move
    company = make_company(status=old)

    with time_machine.travel(NOON, tick=False):
        SERVICE_FOR[new](company=company, by=staff, note="書類確認済み")

    company.refresh_from_db()
    assert company.status == new
    change = CompanyStatusChange.objects.get(company=company)
    assert (change.old_status, change.new_status) == (old, new)
    assert change.by == staff
    assert change.at == NOON
    assert change.note == "書類確認済み"
    if new == Status.VERIFIED:
        assert company.verified_at == NOON


# No service moves a company back to 確認待ち: the forbidden moves a service can attempt.
@pytest.mark.parametrize("move", [m for m in FORBIDDEN_MOVES if m[1] != Status.PENDING], ids=_id)
def test_forbidden_move_raises_and_changes_nothing(db, staff, move):
    old, new = move
    company = make_company(status=old)

    with pytest.raises(services.TransitionError) as caught:
        SERVICE_FOR[new](company=company, by=staff)

    assert caught.value.messages == [
        f"「{Status(old).label}」から「{Status(new).label}」には変更できません。"
    ]
    company.refresh_from_db()
    assert company.status == old
    assert not CompanyStatusChange.objects.exists()


def test_there_is_no_way_back_to_pending():
    assert all(Status.PENDING not in targets for targets in services.COMPANY_ALLOWED.values())


def test_history_keeps_every_move_in_order(db, staff):
    company = make_company(status=Status.PENDING)
    services.verify_company(company=company, by=staff)
    services.suspend_company(company=company, by=staff)
    services.verify_company(company=company, by=staff)

    moves = list(
        CompanyStatusChange.objects.filter(company=company)
        .order_by("pk")
        .values_list("old_status", "new_status")
    )
    assert moves == [
        (Status.PENDING, Status.VERIFIED),
        (Status.VERIFIED, Status.SUSPENDED),
        (Status.SUSPENDED, Status.VERIFIED),
    ]


def test_service_works_from_a_stale_instance(db, staff):
    # The admin action hands over objects loaded before the click; the row is re-read locked.
    company = make_company(status=Status.PENDING)
    stale = Company.objects.get(pk=company.pk)
    services.suspend_company(company=company, by=staff)

    with pytest.raises(services.TransitionError):
        services.suspend_company(company=stale, by=staff)
    assert CompanyStatusChange.objects.count() == 1


# Mail -----------------------------------------------------------------------------------


def test_verification_mails_every_member_after_commit(
    db, staff, django_capture_on_commit_callbacks
):
    company = make_company(status=Status.PENDING, name="株式会社メール建設")
    make_member(company, email="admin@mail-kensetsu.example.jp")
    make_member(company, role=Membership.Role.MEMBER, email="member@mail-kensetsu.example.jp")
    make_member(email="someone@else.example.jp")  # another company: not told

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.verify_company(company=company, by=staff)
        assert mail.outbox == []  # nothing leaves before the commit

    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == [
        "admin@mail-kensetsu.example.jp",
        "member@mail-kensetsu.example.jp",
    ]
    assert message.subject == "[esure] 会社情報の確認が完了しました"
    assert "株式会社メール建設 ご担当者様" in message.body
    assert "http://127.0.0.1:8000/" in message.body


def test_suspension_sends_no_mail(db, staff, django_capture_on_commit_callbacks):
    company = make_company(status=Status.VERIFIED)
    make_member(company)
    with django_capture_on_commit_callbacks(execute=True):
        services.suspend_company(company=company, by=staff)
    assert mail.outbox == []


def test_refused_verification_sends_no_mail(db, staff, django_capture_on_commit_callbacks):
    company = make_company(status=Status.VERIFIED)
    make_member(company)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.TransitionError):
        services.verify_company(company=company, by=staff)
    assert mail.outbox == []


# Admin ----------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def _run_action(client, action, *companies):
    return client.post(
        reverse("admin:accounts_company_changelist"),
        {"action": action, "_selected_action": [str(c.pk) for c in companies]},
        follow=True,
    )


def test_admin_verify_action_verifies_records_and_mails(
    staff_client, staff, django_capture_on_commit_callbacks
):
    company = make_company(status=Status.PENDING)
    make_member(company, email="boss@pending.example.jp")

    with django_capture_on_commit_callbacks(execute=True):
        response = _run_action(staff_client, "verify", company)

    assert response.status_code == 200
    company.refresh_from_db()
    assert company.status == Status.VERIFIED
    change = company.status_changes.get()
    assert (change.old_status, change.new_status, change.by) == (
        Status.PENDING,
        Status.VERIFIED,
        staff,
    )
    assert [m.to for m in mail.outbox] == [["boss@pending.example.jp"]]
    assert "1社を確認済にしました。" in response.content.decode()


def test_admin_suspend_action_suspends(staff_client, staff):
    company = make_company(status=Status.VERIFIED)
    response = _run_action(staff_client, "suspend", company)
    assert response.status_code == 200
    company.refresh_from_db()
    assert company.status == Status.SUSPENDED
    assert company.status_changes.get().by == staff
    assert "1社を利用停止にしました。" in response.content.decode()


def test_admin_action_reports_refused_moves_and_does_the_rest(staff_client):
    pending = make_company(status=Status.PENDING, name="確認待ち建設")
    verified = make_company(status=Status.VERIFIED, name="確認済建設")

    response = _run_action(staff_client, "verify", pending, verified)

    pending.refresh_from_db()
    verified.refresh_from_db()
    assert pending.status == verified.status == Status.VERIFIED
    assert CompanyStatusChange.objects.filter(company=verified).count() == 0
    html = response.content.decode()
    assert "確認済建設: 「確認済」から「確認済」には変更できません。" in html
    assert "1社を確認済にしました。" in html


def test_status_is_read_only_in_the_admin_change_form(staff_client):
    company = make_company(status=Status.PENDING)
    url = reverse("admin:accounts_company_change", args=[company.pk])

    html = staff_client.get(url).content.decode()

    assert 'name="corporate_number"' in html
    assert not re.search(r'<(select|input)[^>]*name="status"', html)
    assert "確認待ち" in html


def test_posting_a_status_to_the_admin_change_form_does_not_change_it(staff_client):
    company = make_company(status=Status.PENDING)
    make_member(company)
    url = reverse("admin:accounts_company_change", args=[company.pk])
    form = {
        field: getattr(company, field)
        for field in (
            "corporate_number",
            "name",
            "name_kana",
            "representative_title",
            "representative_name",
            "postal_code",
            "address",
            "phone",
            "license_number",
        )
    }
    for prefix in ("memberships", "status_changes"):
        form |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}

    response = staff_client.post(url, {**form, "status": Status.VERIFIED, "name": "改名建設"})

    assert response.status_code == 302, response.content.decode()
    company.refresh_from_db()
    assert company.name == "改名建設"  # the save went through...
    assert company.status == Status.PENDING  # ...without the status
    assert not company.status_changes.exists()


def test_companies_cannot_be_deleted_in_admin(staff_client):
    company = make_company()
    response = staff_client.post(
        reverse("admin:accounts_company_delete", args=[company.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Company.objects.filter(pk=company.pk).exists()


# What the clerk sees --------------------------------------------------------------------


def test_home_of_a_pending_clerk_says_awaiting_verification(client, pending_clerk):
    client.force_login(pending_clerk)
    html = client.get("/").content.decode()
    assert "会社情報の確認待ちです" in html
    assert "保証申込メニュー" not in html


def test_home_of_a_verified_clerk_offers_the_application_menu(clerk_client):
    html = clerk_client.get("/").content.decode()
    assert "保証申込メニュー" in html
    assert "確認待ち" not in html


def test_home_of_a_suspended_clerk_says_suspended(client, db):
    client.force_login(make_member(make_company(status=Status.SUSPENDED)))
    html = client.get("/").content.decode()
    assert "ご利用が停止されています" in html
    assert "保証申込メニュー" not in html


def test_after_verification_the_pending_clerk_sees_the_verified_home(client, pending_clerk, staff):
    client.force_login(pending_clerk)
    services.verify_company(company=pending_clerk.membership.company, by=staff)
    html = client.get("/").content.decode()
    assert "保証申込メニュー" in html
    assert "確認待ち" not in html


# verified_member_required ---------------------------------------------------------------


@decorators.verified_member_required
def _apply_view(request):
    return HttpResponse(f"申込画面 {request.membership.company.name}")


def _call(user):
    request = RequestFactory().get("/apply/")
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request, _apply_view(request)


def test_verified_member_required_lets_a_verified_clerk_in(clerk):
    _, response = _call(clerk)
    assert response.status_code == 200
    assert response.content.decode() == "申込画面 ACME建設株式会社"


@pytest.mark.parametrize("status", [Status.PENDING, Status.SUSPENDED])
def test_verified_member_required_sends_an_unverified_clerk_home(db, status):
    request, response = _call(make_member(make_company(status=status)))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert [m.message for m in get_messages(request)] == [decorators.MSG_NOT_VERIFIED]


def test_verified_member_required_sends_a_user_without_company_to_register(db):
    request, response = _call(make_user())
    assert response["Location"] == reverse("accounts:register")
    assert [m.message for m in get_messages(request)] == [decorators.MSG_REGISTER_FIRST]


def test_verified_member_required_sends_anonymous_to_login(db):
    _, response = _call(AnonymousUser())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=/apply/")


def test_verification_opens_the_gate(pending_clerk, staff):
    assert _call(pending_clerk)[1].status_code == 302
    services.verify_company(company=pending_clerk.membership.company, by=staff)
    # The next request loads its user (and membership) afresh, as accounts.backends does.
    pending_clerk.refresh_from_db()
    assert _call(pending_clerk)[1].status_code == 200
