"""Each audited service writes exactly its event(s) to the trail, in the same transaction
as the business change, naming who acted — and never a secret: no 認証キー, no password."""

import datetime
import json
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse

from accounts import services as accounts_services
from accounts.models import Company
from applications import services
from applications.models import Application, ApplicationItem
from audit import services as audit
from audit.models import AuditEvent, AuditHead
from certificates import services as registry
from dsure import services as dsure_services
from esure.choices import GuaranteeKind
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    PASSWORD,
    WORK_DATES,
    make_application,
    make_company,
    make_concluded,
)

REASON = "工事場所の記載が契約書と異なります。"
S = Application.Status
STAFF_SECRET = "JBSWY3DPEHPK3PXP"  # the TOTP secret make_staff() gives every staff device


@pytest.fixture
def guarantee(clerk, tsukumi, staff, frozen):
    [guarantee] = make_concluded(company=clerk.membership.company, by=staff, **WORK_DATES)
    return guarantee


def last_seq():
    head = AuditHead.objects.first()
    return head.last_seq if head else 0


def events_since(seq):
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def the_trail_as_text():
    return json.dumps(list(AuditEvent.objects.values()), ensure_ascii=False, cls=DjangoJSONEncoder)


# --- application moves ------------------------------------------------------------------


@pytest.mark.usefixtures("during_the_work")
def test_every_application_move_is_an_event_with_from_and_to(clerk, staff, tsukumi):
    application = make_application(company=clerk.membership.company, status=S.DRAFT)
    start = last_seq()

    services.submit_application(application=application, by=clerk)
    services.return_application(application=application, by=staff, reason=REASON)
    services.submit_application(application=application, by=clerk)
    services.approve_application(application=application, by=staff)

    rows = events_since(start)
    assert [(r.action, r.actor, r.data["from"], r.data["to"]) for r in rows] == [
        ("application.submitted", clerk.email, "draft", "submitted"),
        ("application.returned", staff.email, "submitted", "returned"),
        ("application.submitted", clerk.email, "returned", "submitted"),
        ("application.approved", staff.email, "submitted", "approved"),
    ]
    assert {(r.object_type, r.object_id) for r in rows} == {
        ("applications.application", str(application.pk))
    }
    assert rows[1].data["note"] == REASON
    assert [r.actor_id for r in rows] == [clerk.pk, staff.pk, clerk.pk, staff.pk]
    assert audit.verify_chain().ok


@pytest.mark.parametrize(
    ("service", "by", "action"),
    [
        (services.withdraw_application, "clerk", "application.withdrawn"),
        (
            lambda **kw: services.decline_application(**kw, reason=REASON),
            "staff",
            "application.declined",
        ),
    ],
)
def test_withdrawal_and_decline_are_events(clerk, staff, tsukumi, service, by, action):
    application = make_application(company=clerk.membership.company, status=S.SUBMITTED)
    actor = {"clerk": clerk, "staff": staff}[by]
    start = last_seq()

    service(application=application, by=actor)

    [row] = events_since(start)
    assert (row.action, row.actor_id, row.object_id) == (action, actor.pk, str(application.pk))


@pytest.mark.usefixtures("during_the_work")
def test_a_refused_move_writes_no_event(clerk, staff, tsukumi):
    application = make_application(company=clerk.membership.company, status=S.DRAFT)
    start = last_seq()

    with pytest.raises(services.TransitionError):
        services.approve_application(application=application, by=staff)

    assert events_since(start) == []


# --- conclusion, changes, cancellation --------------------------------------------------


def test_a_conclusion_records_each_guarantee_then_the_application(clerk, staff, tsukumi, frozen):
    start = last_seq()

    guarantees = make_concluded(
        company=clerk.membership.company,
        items={GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT},
        by=staff,
        **WORK_DATES,
    )

    rows = events_since(start)
    assert [r.action for r in rows] == [
        "guarantee.concluded",
        "guarantee.concluded",
        "application.concluded",
    ]
    for row, guarantee in zip(rows, guarantees, strict=False):
        certificate = guarantee.certificates.get()
        assert (row.actor_id, row.object_type, row.object_id) == (
            staff.pk,
            "certificates.guarantee",
            str(guarantee.pk),
        )
        assert row.data["number"] == guarantee.number
        assert row.data["version"] == 1
        assert row.data["fingerprint"] == certificate.fingerprint
        assert row.data["key_version"] == 1
    assert rows[2].data["to"] == "concluded"
    assert audit.verify_chain().ok


def change_application(guarantee, clerk, kind, amount=None, **fields):
    """A menu-5 application for `guarantee` (as tests/applications/test_changes.py builds)."""
    application = Application.objects.create(
        company=guarantee.company,
        work=guarantee.work,
        menu=Application.Menu.CHANGE,
        guarantee=guarantee,
        change_kind=kind,
        contact_name="大分 花子",
        contact_phone="0972-82-1234",
        created_by=clerk,
        **fields,
    )
    ApplicationItem.objects.create(
        application=application,
        kind=guarantee.kind,
        amount=amount or guarantee.certificates.get(version=1).amount,
    )
    services.submit_application(application=application, by=clerk)
    return application


def test_a_change_is_recorded_with_its_version_and_values(guarantee, clerk, staff):
    application = change_application(
        guarantee,
        clerk,
        Application.ChangeKind.DECREASE,
        amount=4_000_000,
        new_price=10_000_000,
        change_contract_date=datetime.date(2026, 11, 25),
    )
    start = last_seq()

    services.approve_application(application=application, by=staff)

    approved, changed, concluded = events_since(start)
    assert (approved.action, changed.action, concluded.action) == (
        "application.approved",
        "guarantee.changed",
        "application.concluded",
    )
    assert changed.actor_id == staff.pk
    assert changed.object_id == str(guarantee.pk)
    assert changed.data["version"] == 2
    assert changed.data["cancelled_on"] is None
    assert {"field": "guarantee.amount", "old": MAX_ADVANCE, "new": 4_000_000} in changed.data[
        "changes"
    ]
    assert changed.data["fingerprint"] == guarantee.certificates.get(version=2).fingerprint


def test_a_cancellation_is_recorded_as_guarantee_cancelled(guarantee, clerk, staff):
    application = change_application(
        guarantee, clerk, Application.ChangeKind.CANCEL, cancel_reason="工事中止"
    )
    start = last_seq()

    services.approve_application(application=application, by=staff)

    actions = [r.action for r in events_since(start)]
    assert actions == ["application.approved", "guarantee.cancelled", "application.concluded"]
    [cancelled] = AuditEvent.objects.filter(action="guarantee.cancelled")
    assert cancelled.data["cancelled_on"] == "2026-11-30"


# --- the key: shown and re-issued, never written down ------------------------------------


def test_showing_the_key_is_recorded_without_the_key(guarantee, clerk, clerk_client):
    key = registry.current_key(guarantee)
    start = last_seq()

    response = clerk_client.post(reverse("certs:show_key", args=[guarantee.number]))
    assert key in response.content.decode()
    clerk_client.post(reverse("certs:key_notice", args=[guarantee.number]))

    rows = events_since(start)
    assert [(r.action, r.actor_id, r.data["via"]) for r in rows] == [
        ("key.shown", clerk.pk, "screen"),
        ("key.shown", clerk.pk, "key_notice"),
    ]
    assert rows[0].data == {"number": guarantee.number, "via": "screen", "key_version": 1}
    trail = the_trail_as_text()
    assert key not in trail
    assert key.replace("-", "") not in trail


def test_a_reissued_key_is_recorded_without_old_or_new_key(guarantee, staff):
    old_key = registry.current_key(guarantee)
    start = last_seq()

    guarantee = registry.reissue_key(guarantee=guarantee, by=staff, reason="お知らせの誤送信")

    [row] = events_since(start)
    assert (row.action, row.actor_id, row.object_id) == (
        "key.reissued",
        staff.pk,
        str(guarantee.pk),
    )
    assert row.data == {
        "number": guarantee.number,
        "key_version": 2,
        "reason": "お知らせの誤送信",
    }
    new_key = registry.current_key(guarantee)
    trail = the_trail_as_text()
    for key in (old_key, new_key):
        assert key not in trail
        assert key.replace("-", "") not in trail


def test_an_event_of_a_rolled_back_change_does_not_persist(guarantee, staff):
    start = last_seq()

    with pytest.raises(RuntimeError), transaction.atomic():
        registry.reissue_key(guarantee=guarantee, by=staff)
        raise RuntimeError("something after the re-issue failed")

    assert events_since(start) == []
    assert last_seq() == start
    guarantee.refresh_from_db()
    assert guarantee.key_version == 1


# --- staff actions in D-Sure and on companies --------------------------------------------


def test_clearing_a_dsure_lock_is_recorded(staff):
    start = last_seq()

    dsure_services.clear_lock(number="06100000019", by=staff, note="市に確認済")

    [row] = events_since(start)
    assert (row.action, row.actor, row.object_type, row.object_id) == (
        "dsure.lock_cleared",
        staff.email,
        "dsure.number",
        "06100000019",
    )
    assert row.data == {"number": "06100000019", "note": "市に確認済"}


def test_company_verification_and_suspension_are_recorded(staff):
    company = make_company(status=Company.Status.PENDING)
    start = last_seq()

    accounts_services.verify_company(company=company, by=staff)
    accounts_services.suspend_company(company=company, by=staff, note="書類不備")

    verified, suspended = events_since(start)
    assert (verified.action, verified.data["from"], verified.data["to"]) == (
        "company.verified",
        "pending",
        "verified",
    )
    assert (suspended.action, suspended.data["note"]) == ("company.suspended", "書類不備")
    assert verified.data["corporate_number"] == company.corporate_number
    assert verified.object_id == suspended.object_id == str(company.pk)


# --- staff logins ---------------------------------------------------------------------------


def totp(secret):
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_a_staff_login_through_allauth_and_mfa_is_one_event(client, staff):
    start = last_seq()

    client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert events_since(start) == []  # the password alone does not log in
    response = client.post(reverse("mfa_authenticate"), {"code": totp(STAFF_SECRET)})
    assert response.status_code == 302

    [row] = events_since(start)
    assert (row.action, row.actor_id, row.actor) == ("staff.login", staff.pk, staff.email)
    assert (row.object_type, row.object_id) == ("accounts.user", str(staff.pk))
    assert row.data == {"ip": "127.0.0.1"}
    assert client.session.session_key not in the_trail_as_text()


def test_a_contractor_login_is_not_a_staff_event(client, clerk):
    start = last_seq()

    client.post(reverse("account_login"), {"login": clerk.email, "password": PASSWORD})

    assert "_auth_user_id" in client.session
    assert events_since(start) == []


def test_a_failed_login_on_a_staff_address_is_recorded_without_the_password(client, staff):
    start = last_seq()

    response = client.post(
        reverse("account_login"), {"login": staff.email.upper(), "password": "wrong-Passw0rd!"}
    )

    assert response.status_code == 200
    [row] = events_since(start)
    assert (row.action, row.actor_id, row.actor) == ("staff.login_failed", None, "anonymous")
    assert (row.object_type, row.object_id) == ("accounts.user", str(staff.pk))
    assert row.data == {"ip": "127.0.0.1"}
    assert "wrong-Passw0rd!" not in the_trail_as_text()


@pytest.mark.parametrize("login", ["clerk@acme.example.jp", "nobody@example.jp"])
def test_other_failed_logins_are_not_in_the_trail(client, clerk, staff, login):
    start = last_seq()

    client.post(reverse("account_login"), {"login": login, "password": "wrong-Passw0rd!"})

    assert events_since(start) == []
