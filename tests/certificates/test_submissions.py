"""提出 in the registry (decision 0018): where the orderer's policy says INBOX for a kind, each
version of an electronic guarantee is delivered to the office at issuance; the office answers
each version once with 受領 or 返戻 (with a reason); a new version is delivered again."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from certificates import selectors, services
from certificates.models import SUBMISSION_ALLOWED, Submission, SubmissionEvent
from certificates.services import keys as key_module
from tests.conftest import (
    MAX_ADVANCE,
    NOW,
    WORK_DATES,
    accept_handover,
    advance_office,
    deliver_to_inbox,
    make_concluded,
    make_office_user,
    make_orderer,
)

pytestmark = pytest.mark.usefixtures("frozen")
S = Submission.Status


@pytest.fixture
def office(tsukumi):
    office = advance_office(tsukumi)  # 土木課 工事担当 handles 前払金保証
    office.notification_email = "doboku-box@city.tsukumi.example.jp"
    office.save()
    return office


@pytest.fixture
def official(office):
    return make_office_user(office, email="doboku@city.tsukumi.example.jp")


@pytest.fixture
def inbox_policy(tsukumi):
    return deliver_to_inbox(tsukumi)


def conclude(clerk, django_capture_on_commit_callbacks, **kwargs):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES, **kwargs)
    return guarantee


def change(guarantee, django_capture_on_commit_callbacks, **terms):
    mail.outbox.clear()
    fee = {"kind": "none", "fee": 0, "old_amount": MAX_ADVANCE, "new_amount": MAX_ADVANCE}
    with django_capture_on_commit_callbacks(execute=True):
        return services.issue_change(
            guarantee=guarantee, label="増額", fee=fee, amount=MAX_ADVANCE + 100_000, **terms
        )


def office_mails(office):
    return [m for m in mail.outbox if "電子証書が届きました" in m.subject]


def test_the_status_table_answers_once():
    assert {
        S.DELIVERED: {S.RECEIVED, S.RETURNED},
        S.RECEIVED: set(),
        S.RETURNED: set(),
    } == SUBMISSION_ALLOWED


def test_conclusion_delivers_v1_to_the_office_and_mails_it_without_a_key(
    clerk, office, official, inbox_policy, django_capture_on_commit_callbacks
):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)

    submission = Submission.objects.get()
    assert (submission.guarantee, submission.certificate.version, submission.office) == (
        guarantee,
        1,
        office,
    )
    assert (submission.channel, submission.status) == (Submission.Channel.INBOX, S.DELIVERED)
    assert (submission.delivered_at, submission.delivered_by) == (NOW, None)
    [event] = SubmissionEvent.objects.all()
    assert (event.old_status, event.new_status, event.by) == ("", S.DELIVERED, None)
    assert AuditEvent.objects.filter(action="submission.delivered").count() == 1

    [message] = office_mails(office)
    assert sorted(message.to) == [
        "doboku-box@city.tsukumi.example.jp",
        "doboku@city.tsukumi.example.jp",
    ]
    assert guarantee.number_display in message.subject
    assert guarantee.work.name in message.body
    assert f"/dsure/{guarantee.number}/" in message.body
    key = key_module.format_key(key_module.derive_key(guarantee.number, 1))
    assert key not in message.body and key.replace("-", "") not in message.body
    assert selectors.is_submitted_to(guarantee, office)


def test_no_delivery_where_the_policy_says_key_only(
    clerk, office, official, tsukumi, django_capture_on_commit_callbacks
):
    accept_handover(tsukumi)  # the contractor may hand it over, esure does not deliver it

    guarantee = conclude(clerk, django_capture_on_commit_callbacks)

    assert not Submission.objects.exists()
    assert office_mails(office) == []
    assert not selectors.is_submitted_to(guarantee, office)


def test_no_delivery_of_a_paper_guarantee(
    clerk, office, official, inbox_policy, django_capture_on_commit_callbacks
):
    conclude(clerk, django_capture_on_commit_callbacks, delivery="paper")

    assert not Submission.objects.exists()


def test_the_policy_is_per_kind(clerk, tsukumi, office, django_capture_on_commit_callbacks):
    deliver_to_inbox(tsukumi, kind="contract")  # 契約保証 only, not 前払金保証

    conclude(clerk, django_capture_on_commit_callbacks)

    assert not Submission.objects.exists()


def test_an_office_without_users_or_address_gets_the_delivery_but_no_mail(
    clerk, tsukumi, inbox_policy, django_capture_on_commit_callbacks
):
    conclude(clerk, django_capture_on_commit_callbacks)

    assert Submission.objects.count() == 1
    assert office_mails(None) == []


def test_delivered_to_received(
    clerk, office, official, inbox_policy, django_capture_on_commit_callbacks
):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)
    v1 = guarantee.certificates.get()

    submission = services.receive(certificate=v1, office=office, by=official, note="確認しました")

    assert (submission.status, submission.decided_by, submission.decided_at) == (
        S.RECEIVED,
        official,
        NOW,
    )
    assert submission.reason == "確認しました"
    last = submission.events.last()
    assert (last.old_status, last.new_status, last.by) == (S.DELIVERED, S.RECEIVED, official)
    assert AuditEvent.objects.filter(action="submission.received").count() == 1


def test_delivered_to_returned_mails_the_reason_to_contractor_and_staff(
    clerk, staff, office, official, inbox_policy, django_capture_on_commit_callbacks
):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks, by=staff)
    v1 = guarantee.certificates.get()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        submission = services.return_(
            certificate=v1, office=office, by=official, reason=" 工事番号が契約書と異なる "
        )

    assert (submission.status, submission.reason) == (S.RETURNED, "工事番号が契約書と異なる")
    [message] = mail.outbox
    assert "返戻" in message.subject
    assert set(message.to) == {clerk.email, staff.email}
    assert "工事番号が契約書と異なる" in message.body
    assert AuditEvent.objects.filter(action="submission.returned").count() == 1


def test_a_return_needs_a_reason(
    clerk, office, official, inbox_policy, django_capture_on_commit_callbacks
):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)
    v1 = guarantee.certificates.get()

    for blank in ("", "   ", None):
        with pytest.raises(ValidationError) as error:
            services.return_(certificate=v1, office=office, by=official, reason=blank)
        assert error.value.messages == [services.MSG_RETURN_REASON]
    assert Submission.objects.get().status == S.DELIVERED


@pytest.mark.parametrize(
    "first, second",
    [
        ("receive", "receive"),
        ("receive", "return_"),
        ("return_", "receive"),
        ("return_", "return_"),
    ],
)
def test_an_answer_is_given_once(
    first, second, clerk, office, official, inbox_policy, django_capture_on_commit_callbacks
):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)
    v1 = guarantee.certificates.get()

    def answer(name):
        kwargs = {"reason": "理由"} if name == "return_" else {}
        return getattr(services, name)(certificate=v1, office=office, by=official, **kwargs)

    answered = answer(first)
    with pytest.raises(ValidationError) as error:
        answer(second)
    assert error.value.code == "already_answered"
    assert Submission.objects.get().status == answered.status
    assert SubmissionEvent.objects.count() == 2


def test_a_new_version_after_receipt_is_delivered_again(
    clerk, office, official, inbox_policy, django_capture_on_commit_callbacks
):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)
    v1 = guarantee.certificates.get()
    services.receive(certificate=v1, office=office, by=official)

    v2 = change(guarantee, django_capture_on_commit_callbacks)

    first, second = selectors.submissions_of(guarantee)
    assert (first.certificate, first.status) == (v1, S.RECEIVED)
    assert (second.certificate, second.status, second.channel) == (v2, S.DELIVERED, "inbox")
    [message] = office_mails(office)
    assert "第2版" in message.body and "増額" in message.body
    # and v2 is answered on its own
    assert services.receive(certificate=v2, office=office, by=official).status == S.RECEIVED


def test_a_return_then_a_change_delivers_the_corrected_version(
    clerk, office, official, inbox_policy, django_capture_on_commit_callbacks
):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)
    v1 = guarantee.certificates.get()
    services.return_(certificate=v1, office=office, by=official, reason="金額の誤り")

    v2 = change(guarantee, django_capture_on_commit_callbacks)

    statuses = {s.certificate.version: s.status for s in selectors.submissions_of(guarantee)}
    assert statuses == {1: S.RETURNED, 2: S.DELIVERED}
    assert services.receive(certificate=v2, office=office, by=official).status == S.RECEIVED


def test_a_cancellation_is_delivered_too(
    clerk, office, official, inbox_policy, django_capture_on_commit_callbacks
):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)

    services.issue_change(
        guarantee=guarantee,
        label="解約",
        fee={"kind": "refund", "fee": 0, "old_amount": MAX_ADVANCE, "new_amount": MAX_ADVANCE},
        cancelled_on=datetime.date(2026, 11, 30),
        reason="工事中止",
    )

    assert [s.certificate.version for s in selectors.submissions_of(guarantee)] == [1, 2]


def test_later_versions_follow_a_hand_over_on_the_key_path(
    clerk, tsukumi, office, official, django_capture_on_commit_callbacks
):
    accept_handover(tsukumi)
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)
    v1 = guarantee.certificates.get()
    handed = services.deliver(
        certificate=v1, office=office, channel=Submission.Channel.HANDOVER, by=clerk
    )
    assert handed.delivered_by == clerk

    v2 = change(guarantee, django_capture_on_commit_callbacks)

    assert Submission.objects.get(certificate=v2).office == office
    assert len(office_mails(office)) == 1


def test_a_version_reaches_an_office_once(
    clerk, office, inbox_policy, django_capture_on_commit_callbacks
):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)
    v1 = guarantee.certificates.get()

    with pytest.raises(ValidationError) as error:
        services.deliver(certificate=v1, office=office, channel=Submission.Channel.HANDOVER)
    assert error.value.messages == [services.MSG_ALREADY_SUBMITTED]


def test_no_delivery_to_another_orderers_office(clerk, office, django_capture_on_commit_callbacks):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)
    elsewhere = make_orderer("臼杵市").offices.first()

    with pytest.raises(ValidationError):
        services.deliver(
            certificate=guarantee.certificates.get(),
            office=elsewhere,
            channel=Submission.Channel.HANDOVER,
        )
    assert not Submission.objects.exists()


def test_only_a_user_of_the_office_answers(
    clerk, tsukumi, office, official, inbox_policy, django_capture_on_commit_callbacks
):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)
    v1 = guarantee.certificates.get()
    colleague_elsewhere = make_office_user(tsukumi.offices.exclude(pk=office.pk).get())
    other_city = make_office_user(make_orderer("臼杵市").offices.first())

    for user in (clerk, colleague_elsewhere, other_city):
        with pytest.raises(PermissionDenied):
            services.receive(certificate=v1, office=office, by=user)
    with pytest.raises(PermissionDenied):  # a user of another orderer, for its own office
        services.receive(certificate=v1, office=other_city.office_membership.office, by=other_city)
    assert Submission.objects.get().status == S.DELIVERED


def test_a_version_opened_with_the_key_can_be_answered(
    clerk, office, official, django_capture_on_commit_callbacks
):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)  # key path: not delivered
    v1 = guarantee.certificates.get()
    mail.outbox.clear()

    submission = services.receive(certificate=v1, office=office, by=official)

    assert (submission.channel, submission.status) == (Submission.Channel.KEY, S.RECEIVED)
    assert [e.new_status for e in submission.events.all()] == [S.DELIVERED, S.RECEIVED]
    assert mail.outbox == []  # nothing to announce: the office opened it itself
    assert not selectors.is_submitted_to(guarantee, office)  # the key still opens it


def test_the_first_office_view_is_stamped_once(
    clerk, office, official, inbox_policy, frozen, django_capture_on_commit_callbacks
):
    guarantee = conclude(clerk, django_capture_on_commit_callbacks)

    assert services.record_office_view(guarantee=guarantee, office=office) == 1
    frozen.shift(datetime.timedelta(hours=2))
    assert services.record_office_view(guarantee=guarantee, office=office) == 0
    assert Submission.objects.get().viewed_at == NOW
