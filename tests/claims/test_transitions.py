"""A claim's status table: every allowed move through its service, every other refused; the
history row, the audit event and the mails of each step; the amounts staff may decide."""

import datetime
import itertools

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from audit.models import AuditEvent
from claims import services
from claims.models import Claim, ClaimStatusChange
from tests.claims.conftest import ADVANCE_CLAIMABLE, file, move_to
from tests.conftest import evidence_file

S = Claim.Status
pytestmark = pytest.mark.django_db

# Each move and the service call that makes it.
MOVES = {
    S.MORE_DOCUMENTS_REQUESTED: lambda c, staff: services.request_documents(
        claim=c, by=staff, message="出来形検査調書の全頁を提出してください。"
    ),
    S.RESUBMITTED: lambda c, staff: services.resubmit(
        claim=c, by=c.filed_by, files=[evidence_file()], note="全頁を添付しました。"
    ),
    S.APPROVED: lambda c, staff: services.approve(claim=c, by=staff, amount=c.claimable),
    S.PAID: lambda c, staff: services.record_payment(
        claim=c, by=staff, paid_on=datetime.date(2026, 11, 30), amount=c.claimable
    ),
    S.REFUSED: lambda c, staff: services.refuse(claim=c, by=staff, reason="対象外の解除です。"),
}
# Sorted: the sets' order varies between processes, and xdist's workers must collect alike.
ALLOWED_PAIRS = [(old, new) for old, targets in services.ALLOWED.items() for new in sorted(targets)]
FORBIDDEN_PAIRS = [
    (old, new)
    for old, new in itertools.product(S.values, MOVES)
    if new not in services.ALLOWED[old]
]


def test_the_table_is_the_one_the_issue_asks_for():
    assert {
        S.FILED: {S.MORE_DOCUMENTS_REQUESTED, S.APPROVED, S.REFUSED},
        S.MORE_DOCUMENTS_REQUESTED: {S.RESUBMITTED},
        S.RESUBMITTED: {S.MORE_DOCUMENTS_REQUESTED, S.APPROVED, S.REFUSED},
        S.APPROVED: {S.PAID},
        S.PAID: set(),
        S.REFUSED: set(),
    } == services.ALLOWED
    assert set(services.ALLOWED) == set(S.values)


@pytest.mark.parametrize("old, new", ALLOWED_PAIRS, ids=lambda v: str(v))
def test_every_allowed_move(guarantee, office_user, reviewer, old, new):
    claim = move_to(file(guarantee, office_user), old, reviewer)
    before = AuditEvent.objects.count()
    claim = MOVES[new](claim, reviewer)
    claim.refresh_from_db()
    assert claim.status == new
    last = claim.status_changes.order_by("-pk").first()
    assert (last.old_status, last.new_status) == (old, new)
    event = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert event.action == f"claim.{new}"
    assert event.action in AuditEvent.Action.values
    assert event.data["from"] == old and event.data["to"] == new


@pytest.mark.parametrize("old, new", FORBIDDEN_PAIRS, ids=lambda v: str(v))
def test_every_other_move_is_refused(guarantee, office_user, reviewer, old, new):
    claim = move_to(file(guarantee, office_user), old, reviewer)
    history = claim.status_changes.count()
    with pytest.raises(ValidationError) as error:
        MOVES[new](claim, reviewer)
    claim.refresh_from_db()
    assert claim.status == old
    assert claim.status_changes.count() == history
    assert "にすることはできません" in " ".join(error.value.messages) or new == S.PAID


def test_filing_stores_the_figures_the_amount_the_working_and_the_due_date(guarantee, office_user):
    claim = file(guarantee, office_user)
    assert claim.status == S.FILED
    assert claim.claimable == ADVANCE_CLAIMABLE
    assert claim.guaranteed_amount == 4_900_000
    assert claim.working[-1] == "請求できる額 2,900,000円"
    assert claim.due_on == datetime.date(2026, 12, 30)  # 2026-11-30 + 30 days
    assert [a.kind for a in claim.attachments.all()] == [
        "termination_notice",
        "inspection_record",
    ]
    first = claim.status_changes.get()
    assert (first.old_status, first.new_status, first.by) == ("", S.FILED, office_user)
    assert AuditEvent.objects.filter(action="claim.filed", object_id=str(claim.pk)).exists()


def test_the_due_date_follows_the_setting(guarantee, office_user, settings):
    settings.ESURE_CLAIM_DUE_DAYS = 10
    assert file(guarantee, office_user).due_on == datetime.date(2026, 12, 10)


def test_a_contract_guarantee_claims_the_penalty_up_to_its_amount(
    contract_guarantee, contract_office_user
):
    claim = file(contract_guarantee, contract_office_user, penalty=2_000_000)
    assert claim.claimable == 1_234_500
    assert claim.advance_paid is None and claim.penalty == 2_000_000


def test_nothing_to_claim_is_refused_with_the_working(guarantee, office_user):
    with pytest.raises(ValidationError) as error:
        file(guarantee, office_user, progress_paid=0, completed_value=4_900_000)
    assert "請求できる金額が0円" in error.value.messages[0]
    assert "0円未満" not in error.value.messages[0]
    assert not Claim.objects.exists()


def test_an_advance_above_the_guarantee_is_refused(guarantee, office_user):
    with pytest.raises(ValidationError) as error:
        file(guarantee, office_user, advance_paid=4_900_001)
    assert "advance_paid" in error.value.error_dict


def test_one_living_claim_per_guarantee_a_refused_one_may_be_followed(
    guarantee, office_user, reviewer
):
    claim = file(guarantee, office_user)
    with pytest.raises(ValidationError) as error:
        file(guarantee, office_user)
    assert error.value.messages == [services.MSG_ALREADY_CLAIMED]
    move_to(claim, S.REFUSED, reviewer)
    assert file(guarantee, office_user).status == S.FILED
    with pytest.raises(IntegrityError):
        Claim.objects.filter(pk=claim.pk).update(status=S.FILED)


def test_a_request_for_documents_needs_a_message(guarantee, office_user, reviewer):
    claim = file(guarantee, office_user)
    with pytest.raises(ValidationError):
        services.request_documents(claim=claim, by=reviewer, message="  ")
    with pytest.raises(ValidationError):
        services.refuse(claim=claim, by=reviewer, reason="")


def test_a_resubmission_needs_a_file(guarantee, office_user, reviewer):
    claim = move_to(file(guarantee, office_user), S.MORE_DOCUMENTS_REQUESTED, reviewer)
    with pytest.raises(ValidationError) as error:
        services.resubmit(claim=claim, by=office_user, files=[])
    assert error.value.messages == [services.MSG_FILES_REQUIRED]


def test_approving_another_amount_needs_a_note(guarantee, office_user, reviewer):
    claim = file(guarantee, office_user)
    with pytest.raises(ValidationError) as error:
        services.approve(claim=claim, by=reviewer, amount=2_800_000)
    assert "note" in error.value.error_dict
    claim = services.approve(claim=claim, by=reviewer, amount=2_800_000, note="既済代価を査定")
    assert claim.approved_amount == 2_800_000
    assert claim.status_changes.last().note == "既済代価を査定"


@pytest.mark.parametrize(
    "amount, ok", [(0, False), (1, True), (4_900_000, True), (4_900_001, False)]
)
def test_the_approved_amount_is_one_yen_to_the_guaranteed_amount(
    guarantee, office_user, reviewer, amount, ok
):
    claim = file(guarantee, office_user)
    if ok:
        assert services.approve(claim=claim, by=reviewer, amount=amount, note="査定").status == (
            S.APPROVED
        )
    else:
        with pytest.raises(ValidationError):
            services.approve(claim=claim, by=reviewer, amount=amount, note="査定")


def test_the_payment_is_the_approved_amount_on_a_day_not_in_the_future(
    guarantee, office_user, reviewer
):
    claim = move_to(file(guarantee, office_user), S.APPROVED, reviewer)
    with pytest.raises(ValidationError) as error:
        services.record_payment(
            claim=claim, by=reviewer, paid_on=datetime.date(2026, 12, 1), amount=claim.claimable
        )
    assert "paid_on" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        services.record_payment(
            claim=claim, by=reviewer, paid_on=datetime.date(2026, 11, 29), amount=claim.claimable
        )
    assert error.value.error_dict["paid_on"][0].messages == [services.MSG_PAID_BEFORE_FILING]
    with pytest.raises(ValidationError) as error:
        services.record_payment(
            claim=claim,
            by=reviewer,
            paid_on=datetime.date(2026, 11, 30),
            amount=claim.claimable - 1,
        )
    assert "amount" in error.value.error_dict
    claim = services.record_payment(
        claim=claim, by=reviewer, paid_on=datetime.date(2026, 11, 30), amount=claim.claimable
    )
    assert (claim.status, claim.paid_amount) == (S.PAID, ADVANCE_CLAIMABLE)


def test_each_step_mails_the_office_and_the_contractor(
    guarantee, office_user, reviewer, clerk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        claim = file(guarantee, office_user)
    to = [sorted(m.to) for m in mail.outbox]
    assert [office_user.email] in to and [clerk.email] in to and [reviewer.email] in to
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_documents(claim=claim, by=reviewer, message="登記事項証明書を提出")
    assert sorted(m.to[0] for m in mail.outbox) == sorted([office_user.email, clerk.email])
    office_mail = next(m for m in mail.outbox if m.to == [office_user.email])
    assert "書類の追加依頼" in office_mail.subject
    assert "登記事項証明書を提出" in office_mail.body
    assert f"/claims/office/{claim.pk}/" in office_mail.body
    contractor_mail = next(m for m in mail.outbox if m.to == [clerk.email])
    assert f"/claims/{claim.pk}/" in contractor_mail.body
    # No amount travels in a mail (it may be forwarded).
    assert "2,900,000" not in office_mail.body + contractor_mail.body


def test_history_rows_name_who_did_what(guarantee, office_user, reviewer):
    claim = move_to(file(guarantee, office_user), S.PAID, reviewer)
    rows = list(ClaimStatusChange.objects.filter(claim=claim).values_list("new_status", "by"))
    assert rows == [
        (S.FILED, office_user.pk),
        (S.APPROVED, reviewer.pk),
        (S.PAID, reviewer.pk),
    ]
