"""Two web nodes and one worker on one PostgreSQL and one object store (issue #21, decision
0017): real gunicorn processes (ops/gunicorn.conf.py) on two ports, `manage.py db_worker`,
the suite's SeaweedFS and a real SMTP server. Nothing is kept in a process, so:

- a clerk logged in on node A continues on node B;
- a conclusion through node A is viewable in D-Sure on node B (the same PDF bytes);
- its mail, queued by node A, is sent once by the worker;
- wrong keys for one number split across both nodes lock it at the same count as on one;
- conclusions racing on both nodes keep the numbering gapless.

Run alone: `make test ARGS="-m nodes"`.
"""

import concurrent.futures
import datetime
import email
import email.policy
import hashlib
import time
import uuid

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from applications.fees import expected_fee
from applications.models import Application
from certificates import services as registry
from certificates.models import Document, Guarantee
from certificates.numbering import format_number, make_number
from dsure import throttle
from esure.choices import GuaranteeKind
from esure.wareki import fiscal_year_reiwa
from tests.conftest import (
    MAX_ADVANCE,
    PASSWORD,
    make_application,
    make_fee_tables,
    make_member,
    make_orderer,
    make_staff,
    make_work,
)
from tests.seaweedfs import free_port
from tests.servers import (
    Browser,
    Node,
    collect_static,
    db_worker,
    metric_value,
    node_environ,
)

pytestmark = [pytest.mark.nodes, pytest.mark.django_db(transaction=True)]

SUBJECT = "電子証書・認証キー登録のお知らせ"
RACING = 6  # conclusions racing on both nodes


class Inbox:
    """An SMTP server's handler that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"

    def subjects(self):
        return [str(message["Subject"]) for message in self.messages]


def wait_for(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.2)


def other_sessions():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def queue_drained():
    return not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()


@pytest.fixture(autouse=True)
def _fast_password_hasher():
    """Not the suite's MD5 (tests/conftest.py): the nodes check passwords with the
    production hasher, so the users here get a hash of that kind."""


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def cluster(seaweedfs, smtp, tmp_path):
    static = collect_static(tmp_path / "static")
    """Node A, node B and one worker: the same database, bucket, secrets and SMTP server."""
    controller, inbox = smtp
    bucket = seaweedfs.create_bucket(f"esure-nodes-{uuid.uuid4().hex[:8]}")
    environ = node_environ(
        ESURE_S3_BUCKET=bucket,
        ESURE_S3_ENDPOINT_URL=seaweedfs.endpoint_url,
        **seaweedfs.environ,
        EMAIL_URL=f"smtp://127.0.0.1:{controller.port}",
        ESURE_STAFF_MFA_REQUIRED="false",  # staff log in with a password only, here
        ESURE_TRUSTED_PROXY_COUNT="1",  # each browser below says who it is
        STATIC_ROOT=str(static),
    )
    a = Node(environ, tmp_path / "node-a.log")
    b = Node(environ, tmp_path / "node-b.log")
    worker = db_worker(environ, tmp_path / "worker.log")
    try:
        a.wait_until_up()
        b.wait_until_up()
        yield a, b, inbox, seaweedfs, bucket
    finally:
        for process in (a, b, worker):
            process.terminate()
        for process in (a, b, worker):
            process.stop()
        wait_for(lambda: not other_sessions(), "the nodes' database sessions to end", 15)


def log_in(browser, node, email):
    status, _, _ = browser.get(node.url + reverse("account_login"))
    assert status == 200
    status, _, _ = browser.post(
        node.url + reverse("account_login"), {"login": email, "password": PASSWORD}
    )
    assert status == 302, f"login of {email} on {node.url} answered {status}"


def approved_application(company):
    """An approved 前払金保証 of a work that runs now: the nodes' clock is the real one."""
    today = timezone.localdate()
    work = make_work(
        company,
        contract_date=today - datetime.timedelta(days=10),
        start_date=today - datetime.timedelta(days=6),
        end_date=today + datetime.timedelta(days=110),
    )
    return make_application(
        company=company, work=work, items={GuaranteeKind.ADVANCE: MAX_ADVANCE}, status="approved"
    )


def fee_form(node, application):
    """The admin's 保証料入金 form of `application` on `node`: (url, data)."""
    url = node.url + reverse("admin:applications_application_fee", args=[application.pk])
    today = timezone.localdate()
    data = {
        "received_on": today.isoformat(),
        "amount": str(expected_fee(application, today).due),
        "method": "transfer",
    }
    return url, data


def test_two_nodes_and_a_worker_are_one_registry(cluster):
    a, b, inbox, seaweedfs, bucket = cluster
    make_orderer()
    clerk = make_member(email="clerk@acme.example.jp")
    company = clerk.membership.company
    staff = make_staff(email="staff@surety.example.jp", with_totp=False)
    make_fee_tables()

    # 1. A clerk logged in on node A continues on node B (the session is in PostgreSQL).
    contractor = Browser()
    log_in(contractor, a, clerk.email)
    status, headers, _ = contractor.get(b.url + reverse("applications:index"))
    assert status == 200
    anonymous_status, headers, _ = Browser().get(b.url + reverse("applications:index"))
    assert anonymous_status == 302 and "/accounts/login/" in headers["Location"]

    # 2. A conclusion through node A is viewable in D-Sure on node B.
    desk = Browser()
    log_in(desk, a, staff.email)
    application = approved_application(company)
    status, _, _ = desk.post(*fee_form(a, application))
    assert status == 302
    application.refresh_from_db()
    assert application.status == Application.Status.CONCLUDED
    guarantee = Guarantee.objects.get()
    year = fiscal_year_reiwa(timezone.localdate())
    assert guarantee.number == make_number(year, GuaranteeKind.ADVANCE, 1)

    city = Browser(forwarded_for="198.51.100.10")
    city.get(b.url + reverse("dsure:lookup"))
    status, headers, _ = city.post(
        b.url + reverse("dsure:lookup"),
        {"number": guarantee.number_display, "key": registry.current_key(guarantee)},
    )
    assert status == 302, "the right key did not open the guarantee on node B"
    status, headers, pdf = city.get(b.url + reverse("dsure:document", args=[guarantee.number, 1]))
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    stored = Document.objects.get(certificate__guarantee=guarantee, kind="certificate")
    assert hashlib.sha256(pdf).hexdigest() == stored.sha256
    # ... and it is the object in the bucket, not a file on node A's disk.
    key = seaweedfs.client().get_object(Bucket=bucket, Key=stored.file.name)["Body"].read()
    assert hashlib.sha256(key).hexdigest() == stored.sha256

    # 3. The mail node A queued is sent once, by the worker.
    wait_for(queue_drained, "the worker to send the mail")
    assert [SUBJECT in subject for subject in inbox.subjects()] == [True]

    # 4. Wrong keys split across both nodes lock the number at the same count as on one.
    number = make_number(year, GuaranteeKind.ADVANCE, 9_999_999)  # never issued: no guarantee
    guesser = Browser()
    guesser.get(a.url + reverse("dsure:lookup"))
    wrong = {"number": format_number(number), "key": "ABCD-EFGH-JKMN-PQRS"}
    for attempt in range(throttle.LOCK_AT - 1):
        # DELAY_AFTER wrong keys per address, so none is delayed (a delayed attempt checks
        # no key): ten addresses, each attempt on the other node.
        guesser.forwarded_for = f"203.0.113.{attempt // throttle.DELAY_AFTER + 1}"
        node = (a, b)[attempt % 2]
        assert guesser.post(node.url + reverse("dsure:lookup"), wrong)[0] == 200
    assert not throttle.number_state(number).locked
    assert throttle.number_state(number).failures == throttle.LOCK_AT - 1
    assert guesser.post(b.url + reverse("dsure:lookup"), wrong)[0] == 200
    assert throttle.number_state(number).locked

    # 5. Conclusions racing on both nodes: the serials stay gapless.
    applications = [approved_application(company) for _ in range(RACING)]
    desks = [Browser() for _ in range(2)]
    for browser, node in zip(desks, (a, b), strict=True):
        log_in(browser, node, staff.email)
    # The forms first: the threads below only talk HTTP (no database connection of theirs).
    forms = [fee_form((a, b)[i % 2], application) for i, application in enumerate(applications)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=RACING) as pool:
        answers = list(pool.map(lambda i: desks[i % 2].post(*forms[i])[0], range(RACING)))
    assert answers == [302] * RACING
    serials = sorted(int(n[3:10]) for n in Guarantee.objects.values_list("number", flat=True))
    assert serials == list(range(1, RACING + 2))
    concluded = Application.objects.filter(pk__in=[x.pk for x in applications])
    assert set(concluded.values_list("status", flat=True)) == {Application.Status.CONCLUDED}

    # Each node's /metrics sums its two workers: together they counted every conclusion.
    concluded = sum(
        metric_value(Browser().get(node.url + "/metrics")[2].decode(), "esure_conclusions_total")
        for node in (a, b)
    )
    assert concluded == RACING + 1

    # Every mail arrived exactly once: one per conclusion, none twice.
    wait_for(queue_drained, "the worker to send every mail")
    assert [SUBJECT in subject for subject in inbox.subjects()] == [True] * (RACING + 1)
