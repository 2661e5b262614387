"""The work queue on the admin's first page: each count against fixtures of every state, each
link opening a list of exactly the counted rows, and a fixed number of queries at 10 and
10,000 rows (issue 20)."""

import datetime

import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from advances.models import Withdrawal
from certificates.models import Guarantee
from claims.models import Claim
from console import queue
from dsure.models import Alert, LockClear, NumberLock
from tests.claims.conftest import file as file_claim
from tests.claims.conftest import make_claimable, office_of
from tests.claims.conftest import move_to as claims_move_to
from tests.conftest import (
    NOW,
    line_of,
    make_advance_account,
    make_application,
    make_applications_bulk,
    make_company,
    make_member,
    make_office_user,
    make_orderer,
    make_plan,
    make_registered_guarantee,
    make_reservation,
    make_staff,
    make_withdrawal,
)

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def staff_client(client, db):
    staff = make_staff()
    client.force_login(staff)
    client.staff = staff
    return client


def _task(status, **fields):
    return DBTaskResult.objects.create(
        task_path="esure.mail.deliver_mail",
        args_kwargs={"args": [], "kwargs": {"subject": "件名", "recipients": ["a@example.jp"]}},
        backend_name="default",
        run_after=fields.pop("run_after", NOW),
        status=status,
        **fields,
    )


@pytest.fixture
def every_state(db, staff_client):
    """Rows in every state each entry tells apart; returns {slug: the pks it must count}."""
    company = make_company()
    apps = {s: make_application(company=company, status=s) for s in ("draft", "returned")}
    submitted = [make_application(company=company, status="submitted") for _ in range(2)]
    approved = make_application(company=company, status="approved")
    make_application(company=company, status="concluded")
    make_application(company=company, status="declined")
    del apps

    electronic = make_registered_guarantee(company)
    paper, printed, cancelled = (make_registered_guarantee(company) for _ in range(3))
    Guarantee.objects.filter(pk__in=[paper.pk, printed.pk, cancelled.pk]).update(
        delivery="paper", key_version=0
    )
    Guarantee.objects.filter(pk=printed.pk).update(printed_at=NOW)
    Guarantee.objects.filter(pk=cancelled.pk).update(cancelled_at=NOW)
    del electronic

    account = make_advance_account()
    submitted_plan = make_plan(account, status="submitted")
    other = make_advance_account(account_number="7654321")
    accepted = make_plan(other)
    cash = make_withdrawal(other, [(line_of(accepted, "labor"), 100_000)], status="draft")
    Withdrawal.objects.filter(pk=cash.pk).update(status=Withdrawal.Status.CASH_REVIEW)
    make_withdrawal(other, [(line_of(accepted, "labor"), 50_000)], status="draft")

    hour = datetime.timedelta(hours=1)
    locked = NumberLock.objects.create(number="08100000011", at=NOW - hour, until=NOW + hour)
    NumberLock.objects.create(number="08100000022", at=NOW - 3 * hour, until=NOW - hour)
    NumberLock.objects.create(number="08100000033", at=NOW - 2 * hour, until=NOW + hour)
    LockClear.objects.create(number="08100000033", by=staff_client.staff, at=NOW - hour)

    # 契約保証予約証書 (paper only): approved and not printed, while still usable.
    until = {"valid_until": NOW.date() + datetime.timedelta(days=10)}
    to_print = make_reservation(company=company, status="approved", **until)
    make_reservation(company=company, status="approved", printed_at=NOW, **until)
    make_reservation(
        company=company, status="approved", valid_until=NOW.date() - datetime.timedelta(days=1)
    )
    make_reservation(company=company, status="used", **until)
    make_reservation(company=company, status="submitted")

    open_alert = Alert.objects.create(kind="failure_spike", subject="x", detail="d")
    Alert.objects.create(kind="failure_spike", subject="y", detail="d", acknowledged_at=NOW)

    failed = _task(TaskResultStatus.FAILED)
    _task(TaskResultStatus.SUCCESSFUL)
    stuck_running = _task(TaskResultStatus.RUNNING, started_at=NOW - datetime.timedelta(hours=1))
    _task(TaskResultStatus.RUNNING, started_at=NOW - datetime.timedelta(minutes=1))
    overdue = _task(TaskResultStatus.READY, run_after=NOW - datetime.timedelta(minutes=30))
    _task(TaskResultStatus.READY, run_after=NOW + datetime.timedelta(minutes=30))  # a back-off

    # 保証金の請求 in each state: filed and resubmitted wait for review, approved for payment.
    city = make_orderer(name="佐伯市")
    office_user = make_office_user(office_of(city, "advance"))
    claims = {
        status: claims_move_to(file_claim(make_claimable(orderer=city), office_user), status, staff)
        for status, staff in ((s, staff_client.staff) for s in Claim.Status.values)
    }

    return {
        "review": {a.pk for a in submitted},
        "fee": {approved.pk},
        "print": {paper.pk},
        "print_reservations": {to_print.pk},
        "plans": {submitted_plan.pk},
        "cash": {cash.pk},
        "locks": {locked.pk},
        "alerts": {open_alert.pk},
        "mail_failed": {failed.pk},
        "stuck": {stuck_running.pk, overdue.pk},
        "claims": {claims["filed"].pk, claims["resubmitted"].pk},
        "claims_payment": {claims["approved"].pk},
    }


def test_each_count_links_to_a_list_of_exactly_the_counted_rows(staff_client, every_state):
    response = staff_client.get(reverse("admin:index"))

    waiting = {w.entry.slug: w for w in response.context["work_queue"]}
    assert set(waiting) == set(every_state)
    for slug, pks in every_state.items():
        assert waiting[slug].count == len(pks), slug
        listed = staff_client.get(waiting[slug].url)
        assert listed.status_code == 200, slug
        assert {obj.pk for obj in listed.context["cl"].result_list} == pks, slug


def test_the_first_page_shows_the_counts_and_the_oldest_age(staff_client, every_state, frozen):
    frozen.shift(datetime.timedelta(days=3))
    staff_client.force_login(staff_client.staff)  # three days on: a session of that day

    page = staff_client.get(reverse("admin:index")).content.decode()

    assert "審査待ちの申込" in page and "2件" in page
    assert "3日前" in page  # the oldest submission waits since NOW


def test_review_opens_oldest_first(staff_client, every_state):
    url = next(
        w.url
        for w in staff_client.get(reverse("admin:index")).context["work_queue"]
        if w.entry.slug == "review"
    )

    listed = staff_client.get(url).context["cl"]

    assert listed.get_ordering_field_columns()  # sorted by a column …
    times = [a.submitted_at for a in listed.result_list]
    assert times == sorted(times)  # … the oldest first


def _index_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:index")).status_code == 200
    return len(queries)


def test_the_first_page_costs_the_same_queries_at_10_and_10000_rows(staff_client):
    orderer = make_orderer()
    company = make_company()
    clerk = make_member(company)
    make_applications_bulk(company, 10, orderer=orderer, by=clerk, statuses=("submitted",))
    _index_queries(staff_client)  # warm: the session, the content types
    small = _index_queries(staff_client)

    make_applications_bulk(
        company, 9_990, orderer=orderer, by=clerk, statuses=("submitted", "approved")
    )
    large = _index_queries(staff_client)

    assert small == large
    # One per work-queue entry, plus the session, the user (with its membership joined, none
    # for staff: accounts.backends), the staff MFA check and the recent actions.
    assert small == len(queue.ENTRIES) + 4


def test_the_queue_filter_ignores_an_unknown_entry(staff_client, every_state):
    url = reverse("admin:applications_application_changelist") + "?queue=nope"

    assert staff_client.get(url).status_code == 200


def test_anonymous_users_do_not_see_the_queue(client, db):
    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert timezone.now() == NOW
