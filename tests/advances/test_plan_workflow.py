"""The 明細書 as a workflow (services): drafted, submitted with its PDF, accepted or
returned by the surety, corrected or changed (使途変更) in new versions — every move
through the one status table, with its history row, audit event and mail."""

import io

import pytest
from django.core import mail
from pypdf import PdfReader

from advances import rules, services
from advances.models import UsePlan
from audit.models import AuditEvent
from esure.wareki import yen
from tests.conftest import (
    ADVANCE_AMOUNT,
    make_advance_account,
    make_plan,
    make_staff,
    plan_row,
)

P = UsePlan.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def account(db):
    return make_advance_account()


@pytest.fixture
def staff(db):
    return make_staff(email="shinsa@surety.example.jp")


def test_a_plan_goes_from_draft_to_accepted_with_history_audit_and_mail(
    account, staff, django_capture_on_commit_callbacks
):
    clerk = account.registered_by
    with django_capture_on_commit_callbacks(execute=True):
        plan = make_plan(account, status="submitted")
    assert plan.status == P.SUBMITTED and plan.version == 1 and not plan.is_change
    assert [m.to for m in mail.outbox] == [[staff.email]]
    assert "前払金使途内訳明細書の確認依頼" in mail.outbox[0].subject
    assert "円" not in mail.outbox[0].body  # no amounts in mail

    with django_capture_on_commit_callbacks(execute=True):
        plan = services.accept_plan(plan=plan, by=staff, note="確認しました")

    assert plan.status == P.ACCEPTED and plan.decided_at is not None
    assert [(h.old_status, h.new_status) for h in plan.status_changes.all()] == [
        (P.DRAFT, P.SUBMITTED),
        (P.SUBMITTED, P.ACCEPTED),
    ]
    assert mail.outbox[-1].to == [clerk.email]
    assert "承認されました" in mail.outbox[-1].subject
    actions = list(
        AuditEvent.objects.filter(object_type="advances.useplan").values_list("action", flat=True)
    )
    assert actions == ["use_plan.accepted", "use_plan.submitted"]


def test_submission_stores_the_printed_plan_with_its_hash(account):
    plan = make_plan(account, status="submitted")
    data = plan.pdf.open("rb").read()
    import hashlib

    assert plan.pdf_sha256 == hashlib.sha256(data).hexdigest()
    assert plan.pdf_size == len(data)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    flat = "".join(text.split())
    assert "前払金使途内訳明細書" in flat
    assert account.work.name in flat
    assert "津久見資材株式会社" in flat
    assert f"{ADVANCE_AMOUNT:,}" in flat
    fonts = {
        font["/BaseFont"]
        for page in PdfReader(io.BytesIO(data)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert all("IPAex" in str(name) for name in fonts), fonts


def test_a_plan_that_breaks_a_rule_is_not_submitted_and_stays_a_draft(account):
    plan = make_plan(account, [plan_row("material", ADVANCE_AMOUNT - 1)], status="draft")
    with pytest.raises(services.ValidationError) as error:
        services.submit_plan(plan=plan, by=account.registered_by)
    assert error.value.messages == [
        rules.MSG_TOTAL_SHORT.format(
            funding="前払金",
            total=yen(ADVANCE_AMOUNT - 1),
            amount=yen(ADVANCE_AMOUNT),
            short=yen(1),
        )
    ]
    plan.refresh_from_db()
    assert plan.status == P.DRAFT and not plan.pdf


def test_returned_then_corrected_in_a_new_version(
    account, staff, django_capture_on_commit_callbacks
):
    plan = make_plan(account, status="submitted")
    with pytest.raises(services.ValidationError):
        services.return_plan(plan=plan, by=staff, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        services.return_plan(plan=plan, by=staff, reason="下請代金の支払先を確認してください")
    assert "下請代金の支払先を確認してください" in mail.outbox[-1].body

    correction = services.start_plan(account=account, by=account.registered_by)
    assert (correction.version, correction.is_change, correction.based_on) == (2, False, plan)
    assert [line.key for line in correction.lines.order_by("key")] == [1, 2, 3]
    services.submit_plan(plan=correction, by=account.registered_by)
    services.accept_plan(plan=correction, by=staff)
    plan.refresh_from_db()
    assert plan.status == P.RETURNED  # a returned version stays as it was


def test_a_change_supersedes_the_plan_in_force_and_keeps_the_line_keys(account, staff):
    first = make_plan(account, staff=staff)
    change = services.start_plan(account=account, by=account.registered_by, reason="資材の追加")
    assert change.is_change and change.version == 2
    rows = [
        plan_row("material", 1_900_000, key=1),
        plan_row("subcontract", 2_400_000, key=2),
        plan_row("labor", 500_000, key=3),
        plan_row("freight", 100_000),
    ]
    services.save_plan_draft(plan=change, by=account.registered_by, rows=rows)
    assert sorted(change.lines.values_list("key", flat=True)) == [1, 2, 3, 4]
    services.submit_plan(plan=change, by=account.registered_by)
    services.accept_plan(plan=change, by=staff)

    first.refresh_from_db()
    assert first.status == P.SUPERSEDED
    assert first.lines.get(key=1).amount == 2_000_000  # the accepted version never changed


def test_a_change_needs_its_reason(account, staff):
    make_plan(account, staff=staff)
    change = services.start_plan(account=account, by=account.registered_by, reason="")
    with pytest.raises(services.ValidationError) as error:
        services.submit_plan(plan=change, by=account.registered_by)
    assert error.value.message_dict == {"reason": [services.MSG_REASON_REQUIRED]}


def test_only_one_version_is_open_at_a_time(account):
    services.start_plan(account=account, by=account.registered_by)
    with pytest.raises(services.ValidationError) as error:
        services.start_plan(account=account, by=account.registered_by)
    assert error.value.messages == [services.MSG_PLAN_OPEN]


def test_a_submitted_version_cannot_be_edited(account):
    plan = make_plan(account, status="submitted")
    with pytest.raises(services.ValidationError) as error:
        services.save_plan_draft(plan=plan, by=account.registered_by, rows=[])
    assert error.value.messages == [services.MSG_NOT_DRAFT]


def test_a_line_key_from_elsewhere_is_refused(account):
    plan = services.start_plan(account=account, by=account.registered_by)
    with pytest.raises(services.ValidationError):
        services.save_plan_draft(
            plan=plan, by=account.registered_by, rows=[plan_row("material", 1, key=99)]
        )


# Every move of the status table, allowed and refused --------------------------------------


def test_the_plan_status_table_allows_exactly_its_moves(account, staff):
    """Every pair of statuses: the table's moves happen (with their history row), every
    other is refused and changes nothing."""
    pairs = ((old, new) for old in P for new in P if old != new)
    for version, (old, new) in enumerate(pairs, 1):
        plan = UsePlan.objects.create(
            account=account, version=version, status=old, created_by=account.registered_by
        )
        if new in services.PLAN_ALLOWED.get(old, set()):
            assert services._move(plan, to=new, by=staff, note="test").status == new
            assert plan.status_changes.filter(old_status=old, new_status=new).exists()
        else:
            with pytest.raises(services.TransitionError):
                services._move(plan, to=new, by=staff)
            assert UsePlan.objects.get(pk=plan.pk).status == old, (old, new)
            assert not plan.status_changes.exists()
        # One open and one accepted version at most (database constraints): park it.
        UsePlan.objects.filter(pk=plan.pk).update(status=P.RETURNED)
