"""The status table (services.ALLOWED) and the services that move an application through it."""

import datetime
import itertools

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction

from applications import rules, services
from applications.models import Application, FeeReceipt, StatusChange
from tests.conftest import make_application

S = Application.Status
REASON = "工事場所の記載が契約書と異なります。"

ALLOWED_MOVES = [(old, new) for old, targets in services.ALLOWED.items() for new in sorted(targets)]
FORBIDDEN_MOVES = [
    (old, new)
    for old, new in itertools.product(S.values, S.values)
    if new not in services.ALLOWED.get(old, set())
]


def _conclude(*, application, by):
    """保証料入金 → 締結 through the public service (a forbidden move fails before any write)."""
    return services.record_fee_receipt(
        application=application,
        received_on=datetime.date(2025, 1, 10),
        amount=19_600,
        method=FeeReceipt.Method.TRANSFER,
        by=by,
    )


def _conclude_bare(*, application, by):
    # The allowed move approved → concluded through the one transition helper alone: the
    # whole conclusion (numbers, certificates, PDFs, mail) is the fee-receipt tests' subject.
    with transaction.atomic():
        return services._transition(application=application, to=S.CONCLUDED, by=by)


# The service that moves an application to each status, called as a view or admin would.
SERVICES = {
    S.SUBMITTED: services.submit_application,
    S.WITHDRAWN: services.withdraw_application,
    S.RETURNED: lambda **kw: services.return_application(**kw, reason=REASON),
    S.DECLINED: lambda **kw: services.decline_application(**kw, reason=REASON),
    S.APPROVED: lambda **kw: services.approve_application(**kw, note=REASON),
    S.CONCLUDED: _conclude,
}
NOTED = {S.RETURNED, S.DECLINED, S.APPROVED}


def test_the_table_is_the_documented_workflow():
    """DESIGN.md §4: draft → submitted → (returned → submitted)* → approved → concluded,
    plus withdrawn (by the clerk before approval) and declined (by staff)."""
    assert {
        S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
        S.SUBMITTED: {S.RETURNED, S.APPROVED, S.DECLINED, S.WITHDRAWN},
        S.RETURNED: {S.SUBMITTED, S.WITHDRAWN},
        S.APPROVED: {S.CONCLUDED},
    } == services.ALLOWED
    assert len(ALLOWED_MOVES) + len(FORBIDDEN_MOVES) == len(S.values) ** 2


@pytest.mark.parametrize(("old", "new"), ALLOWED_MOVES, ids=[f"{o}->{n}" for o, n in ALLOWED_MOVES])
@pytest.mark.usefixtures("during_the_work")
def test_every_allowed_move_succeeds_and_is_recorded(clerk, staff, tsukumi, old, new):
    application = make_application(company=clerk.membership.company, status=old)
    by = clerk if new in (S.SUBMITTED, S.WITHDRAWN) else staff

    move = _conclude_bare if new == S.CONCLUDED else SERVICES[new]

    moved = move(application=application, by=by)

    application.refresh_from_db()
    assert moved.status == application.status == new
    change = StatusChange.objects.get(application=application)
    assert (change.old_status, change.new_status, change.by) == (old, new, by)
    assert change.note == (REASON if new in NOTED else "")
    assert change.at == application.updated_at
    if new == S.SUBMITTED:
        assert application.submitted_at == change.at


@pytest.mark.parametrize(
    ("old", "new"), FORBIDDEN_MOVES, ids=[f"{o}->{n}" for o, n in FORBIDDEN_MOVES]
)
@pytest.mark.usefixtures("during_the_work")
def test_every_forbidden_move_raises_and_writes_nothing(clerk, staff, tsukumi, old, new):
    application = make_application(company=clerk.membership.company, status=old)
    before = Application.objects.values().get(pk=application.pk)

    with pytest.raises(services.TransitionError) as raised:
        if new in SERVICES:
            SERVICES[new](application=application, by=staff)
        else:  # no service moves anything back to 保存中
            with transaction.atomic():
                services._transition(application=application, to=new, by=staff)

    assert raised.value.messages == [
        services.MSG_TRANSITION.format(old=S(old).label, new=S(new).label)
    ]
    assert Application.objects.values().get(pk=application.pk) == before
    assert not StatusChange.objects.exists()
    assert not FeeReceipt.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("service", [services.return_application, services.decline_application])
@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_return_and_decline_need_a_reason(clerk, staff, tsukumi, service, reason):
    application = make_application(company=clerk.membership.company, status=S.SUBMITTED)

    with pytest.raises(ValidationError) as raised:
        service(application=application, by=staff, reason=reason)

    assert raised.value.messages == [services.MSG_REASON_REQUIRED]
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    assert not StatusChange.objects.exists()


# --- Mail ---------------------------------------------------------------------------------


def test_return_mails_the_company_with_the_reason(
    clerk, staff, tsukumi, django_capture_on_commit_callbacks
):
    application = make_application(company=clerk.membership.company, status=S.SUBMITTED)

    with django_capture_on_commit_callbacks(execute=True):
        services.return_application(application=application, by=staff, reason=REASON)

    [message] = mail.outbox
    assert message.to == [clerk.email]
    assert "差し戻されました" in message.subject
    assert application.work.name in message.subject
    assert REASON in message.body
    assert f"/applications/{application.pk}/" in message.body


def test_decline_mails_the_company_with_the_reason(
    clerk, staff, tsukumi, django_capture_on_commit_callbacks
):
    application = make_application(company=clerk.membership.company, status=S.SUBMITTED)

    with django_capture_on_commit_callbacks(execute=True):
        services.decline_application(application=application, by=staff, reason=REASON)

    [message] = mail.outbox
    assert message.to == [clerk.email]
    assert "謝絶" in message.subject
    assert REASON in message.body


@pytest.mark.usefixtures("during_the_work")
def test_approval_mails_the_company(clerk, staff, tsukumi, django_capture_on_commit_callbacks):
    application = make_application(company=clerk.membership.company, status=S.SUBMITTED)

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_application(application=application, by=staff)

    [message] = mail.outbox
    assert message.to == [clerk.email]
    assert "承認しました" in message.subject
    assert "保証料の入金を確認したのち" in message.body


def test_mail_is_sent_only_once_the_transaction_commits(clerk, staff, tsukumi):
    application = make_application(company=clerk.membership.company, status=S.SUBMITTED)

    services.return_application(application=application, by=staff, reason=REASON)

    assert mail.outbox == []  # the test's transaction never commits


@pytest.mark.usefixtures("during_the_work")
def test_submitting_sends_no_mail(clerk, tsukumi, django_capture_on_commit_callbacks):
    application = make_application(company=clerk.membership.company)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.submit_application(application=application, by=clerk)

    assert callbacks == []
    assert mail.outbox == []


# --- Approval checks the rules again --------------------------------------------------------


@pytest.mark.usefixtures("during_the_work")
def test_approval_refuses_an_application_that_no_longer_meets_the_rules(
    clerk, staff, tsukumi, django_capture_on_commit_callbacks
):
    application = make_application(company=clerk.membership.company, status=S.SUBMITTED)
    # After submission the city lowers its 前払金 limit to 3割: 4,900,000 is now too much.
    tsukumi.advance_ratio_construction = 30
    tsukumi.save()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as raised:
        services.approve_application(application=application, by=staff)

    expected = rules.MSG_ADVANCE_OVER_MAX.format(ratio=30, max="3,700,000円")
    assert raised.value.message_dict == {"advance_amount": [expected]}
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    assert not StatusChange.objects.exists()
    assert mail.outbox == []


def test_submission_refuses_an_incomplete_draft_and_keeps_it(clerk, tsukumi):
    application = make_application(company=clerk.membership.company, delivery="")

    with pytest.raises(ValidationError) as raised:
        services.submit_application(application=application, by=clerk)

    assert "delivery" in raised.value.message_dict
    application.refresh_from_db()
    assert application.status == S.DRAFT
    assert not StatusChange.objects.exists()


def test_a_second_request_for_the_same_kind_on_a_work_is_refused(clerk, tsukumi):
    first = make_application(company=clerk.membership.company, status=S.APPROVED)
    second = make_application(work=first.work, menu="2")

    with pytest.raises(ValidationError) as raised:
        services.submit_application(application=second, by=clerk)

    assert "advance_amount" in raised.value.message_dict
