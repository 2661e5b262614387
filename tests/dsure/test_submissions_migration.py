"""The existing hand-overs, receipts and office users' key views are kept as the registry's
submissions (dsure migration 0006, decision 0018), before their tables go (0007)."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.conftest import NOW, advance_office, make_office_user, make_registered_guarantee

BEFORE = [("dsure", "0005_japanese_admin_names")]
MOVED = [("dsure", "0006_submissions_move_to_registry")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_the_move(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())


def test_hand_overs_receipts_and_views_become_submissions(before_the_move, tsukumi, clerk):
    apps = before_the_move
    Handover = apps.get_model("dsure", "Handover")
    Receipt = apps.get_model("dsure", "Receipt")
    AccessLog = apps.get_model("dsure", "AccessLog")
    office = advance_office(tsukumi)
    official = make_office_user(office)
    handed = make_registered_guarantee(clerk.membership.company)
    opened = make_registered_guarantee(clerk.membership.company)
    later = NOW + datetime.timedelta(hours=1)
    Handover.objects.create(
        guarantee_id=handed.pk, office_id=office.pk, by_id=clerk.pk, at=NOW, note="よろしく"
    )
    Receipt.objects.create(
        guarantee_id=handed.pk,
        certificate_id=handed.certificates.get().pk,
        office_id=office.pk,
        by_id=official.pk,
        at=later,
        note="原本確認",
    )
    AccessLog.objects.create(
        at=NOW,
        ip="203.0.113.5",
        number=opened.number,
        outcome="success",
        guarantee_id=opened.pk,
        office_user_id=official.pk,
    )

    apps = migrate(MOVED)

    Submission = apps.get_model("certificates", "Submission")
    Guarantee = apps.get_model("certificates", "Guarantee")
    first = Submission.objects.get(guarantee_id=handed.pk)
    assert (first.channel, first.status, first.delivered_by_id, first.note) == (
        "handover",
        "received",
        clerk.pk,
        "よろしく",
    )
    assert (first.decided_at, first.decided_by_id, first.reason) == (later, official.pk, "原本確認")
    assert [e.new_status for e in first.events.order_by("pk")] == ["delivered", "received"]
    second = Submission.objects.get(guarantee_id=opened.pk)
    assert (second.channel, second.status, second.viewed_at) == ("key", "delivered", NOW)
    assert Guarantee.objects.get(pk=opened.pk).first_viewed_at == NOW
