"""Rule 9, the surety's monitoring: an account still holding more than 20% of the 前払金
90 days after it was paid in is flagged (both numbers settings) — at 89/90/91 days and
19.9/20/20.1% — and staff open and close an audit (監査) from the list."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from advances import rules, selectors
from advances.models import Inspection
from audit.models import AuditEvent
from tests.conftest import (
    line_of,
    make_advance_account,
    make_bank_branch,
    make_bank_user,
    make_deposit,
    make_plan,
    make_withdrawal,
    plan_row,
)

pytestmark = pytest.mark.django_db
ADVANCE = 1_000_000
PAID_IN = timezone.localdate() - datetime.timedelta(days=200)


def test_the_rule_in_integers():
    flag = dict(paid_in_on=PAID_IN, advance=ADVANCE, days=90, percent=20)
    day = PAID_IN + datetime.timedelta(days=90)
    assert rules.is_flagged(today=day, held=200_001, **flag)
    assert not rules.is_flagged(today=day, held=200_000, **flag)
    assert not rules.is_flagged(today=day - datetime.timedelta(days=1), held=ADVANCE, **flag)
    assert not rules.is_flagged(today=day, held=ADVANCE, **{**flag, "paid_in_on": None})


@pytest.fixture
def banker(db):
    return make_bank_user(make_bank_branch())


def spent(banker, paid_out):
    """An account of a 1,000,000円 前払金 paid in on PAID_IN, `paid_out` of it paid out."""
    account = make_advance_account(
        amount=ADVANCE, account_number=f"{1_000_000 + paid_out % 9_000_000:07d}"
    )
    plan = make_plan(account, [plan_row("labor", ADVANCE)])
    make_deposit(account, ADVANCE, received_on=PAID_IN, by=banker)
    if paid_out:
        make_withdrawal(
            account, [(line_of(plan, "labor"), paid_out)], status="executed", bank_user=banker
        )
    return account


def flagged(today, days=90, percent=20):
    return {a.pk: a for a in selectors.monitoring(today, days=days, percent=percent)}


def test_flagged_from_the_90th_day(banker):
    account = spent(banker, 700_000)  # 30% held
    for days, expected in [(89, False), (90, True), (91, True)]:
        assert (account.pk in flagged(PAID_IN + datetime.timedelta(days=days))) is expected, days


@pytest.mark.parametrize(
    ("paid_out", "held_percent", "expected"),
    [(801_000, "19.9", False), (800_000, "20", False), (799_000, "20.1", True)],
)
def test_flagged_above_20_percent_held(banker, paid_out, held_percent, expected):
    account = spent(banker, paid_out)
    found = flagged(PAID_IN + datetime.timedelta(days=120))
    assert (account.pk in found) is expected, held_percent
    if expected:
        assert found[account.pk].held == ADVANCE - paid_out


def test_both_numbers_are_settings(banker):
    account = spent(banker, 0)
    day = PAID_IN + datetime.timedelta(days=30)
    assert account.pk not in flagged(day)
    assert account.pk in flagged(day, days=30, percent=99)
    assert account.pk not in flagged(day, days=30, percent=100)


def test_interest_and_requests_not_yet_paid_do_not_hide_the_advance(banker):
    account = spent(banker, 0)
    make_deposit(account, 5_000, kind="interest", by=banker)
    plan = account.plans.get()
    make_withdrawal(account, [(line_of(plan, "labor"), 900_000)])  # submitted, not executed
    assert account.pk in flagged(PAID_IN + datetime.timedelta(days=100))


# The list in admin and the audits ----------------------------------------------------------


def test_staff_see_the_list_and_open_an_audit_from_it(staff_client, banker, settings):
    settings.ESURE_ADVANCE_MONITOR_DAYS = 90
    account = spent(banker, 0)
    quiet = spent(banker, 900_000)
    page = staff_client.get(reverse("admin:advances_advanceaccount_monitoring")).content.decode()
    assert account.company.name in page and "金1,000,000円" in page
    assert quiet.company.name not in page

    response = staff_client.post(
        reverse("admin:advances_advanceaccount_inspect", args=[account.pk]),
        {"kind": "desk", "from_monitoring": "on", "reason": "監視リスト"},
    )
    inspection = Inspection.objects.get()
    assert response["Location"] == reverse("admin:advances_inspection_change", args=[inspection.pk])
    assert (inspection.kind, inspection.from_monitoring, inspection.status) == (
        "desk",
        True,
        "open",
    )

    staff_client.post(
        reverse("admin:advances_inspection_close", args=[inspection.pk]), {"findings": ""}
    )
    assert Inspection.objects.get().status == "open"
    staff_client.post(
        reverse("admin:advances_inspection_close", args=[inspection.pk]),
        {"findings": "資材の納期遅れによる。翌月に払出予定を確認した。"},
    )
    inspection.refresh_from_db()
    assert inspection.status == "closed" and "納期遅れ" in inspection.findings
    assert list(
        AuditEvent.objects.filter(object_type="advances.inspection").values_list(
            "action", flat=True
        )
    ) == ["inspection.closed", "inspection.opened"]


def test_an_audit_may_be_opened_by_hand_from_the_account(staff_client, banker):
    account = spent(banker, 900_000)
    staff_client.post(
        reverse("admin:advances_advanceaccount_inspect", args=[account.pk]), {"kind": "onsite"}
    )
    assert Inspection.objects.get().from_monitoring is False


def test_the_admin_list_filters_the_flagged(staff_client, banker):
    account = spent(banker, 0)
    quiet = spent(banker, 900_000)
    url = reverse("admin:advances_advanceaccount_changelist") + "?monitoring=flagged"
    page = staff_client.get(url).content.decode()
    assert str(account.account_number) in page and quiet.account_number not in page


@pytest.fixture
def staff_client(client_for, staff):
    return client_for(staff)
