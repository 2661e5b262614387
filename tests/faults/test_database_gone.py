"""The database goes away in the middle of a request (a failover, a restart, an operator's
pg_terminate_backend): what was being written is gone as a whole — no guarantee, no number
used, no PDF left in storage, no mail queued — and the next request, on a new connection,
succeeds.

PostgreSQL only, with real commits (transaction=True): the test kills its own server
process from a second connection at a chosen query, as a failover would.
"""

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.tasks import TaskResultStatus
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from applications import services
from applications.fees import expected_fee
from applications.models import Application, FeeReceipt
from certificates import services as registry
from certificates.models import Certificate, Document, Guarantee, NumberCounter
from certificates.numbering import format_number, make_number
from dsure.models import AccessLog
from esure.choices import GuaranteeKind
from tests.conftest import (
    MAX_ADVANCE,
    MIN_CONTRACT,
    NOW,
    WORK_DATES,
    dsure_lookup,
    make_application,
    make_company,
    make_concluded,
    make_fee_tables,
    make_work,
    run_db_worker,
)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="kills a PostgreSQL backend"),
    pytest.mark.django_db(transaction=True),
    # The production Tasks backend: a queued mail is a row written in the transaction.
    pytest.mark.usefixtures("database_tasks"),
    pytest.mark.usefixtures("frozen"),
]

TODAY = NOW.date()
TWO_KINDS = {GuaranteeKind.ADVANCE: MAX_ADVANCE, GuaranteeKind.CONTRACT: MIN_CONTRACT}
DB_GONE = (OperationalError, InterfaceError)


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def terminate(pid):
    """End a server process from another connection, and wait until it is gone."""
    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"],
        "host": db["HOST"],
        "port": db["PORT"],
    }
    with psycopg.connect(autocommit=True, **{k: v for k, v in params.items() if v}) as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def kill_before(table, *, nth=1, on_kill=None):
    """An execute wrapper that ends this connection's server process just before the `nth`
    INSERT into `table` reaches it (calling `on_kill` first)."""
    pid = backend_pid()
    seen = []

    def wrapper(execute, sql, params, many, context):
        if sql.startswith(f'INSERT INTO "{table}"'):
            seen.append(sql)
            if len(seen) == nth:
                if on_kill:
                    on_kill()
                terminate(pid)
        return execute(sql, params, many, context)

    return wrapper


def approved(company):
    work = make_work(company, **WORK_DATES)
    return make_application(company=company, work=work, status="approved", items=TWO_KINDS)


def computed_fee(application):
    return expected_fee(application, TODAY).due


def conclude(application, by):
    return services.record_fee_receipt(
        application=application,
        received_on=TODAY,
        amount=computed_fee(application),
        method="transfer",
        by=by,
    )


def fee_post(application):
    return {
        "received_on": TODAY.isoformat(),
        "amount": str(computed_fee(application)),
        "method": "transfer",
    }


def stored_files(media):
    return sorted(p.name for p in media.rglob("*") if p.is_file()) if media.exists() else []


def assert_nothing_concluded(application, media):
    assert Guarantee.objects.count() == 0
    assert Certificate.objects.count() == 0
    assert Document.objects.count() == 0
    assert FeeReceipt.objects.count() == 0
    assert not NumberCounter.objects.filter(last_serial__gt=0).exists()
    assert DBTaskResult.objects.count() == 0  # no mail queued
    assert stored_files(media) == []
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED


def test_the_database_going_away_mid_conclusion_leaves_nothing(
    client, clerk, staff, tsukumi, media
):
    make_fee_tables()
    application = approved(clerk.membership.company)
    # The first guarantee is written with its 保証証書; the second one's is in storage when
    # its row meets a dead connection (the other PDFs come after commit: decision 0033).
    in_storage = []
    kill = kill_before(
        Document._meta.db_table, nth=2, on_kill=lambda: in_storage.extend(stored_files(media))
    )
    with connection.execute_wrapper(kill), pytest.raises(DB_GONE):
        conclude(application, staff)
    assert len(in_storage) == 2

    # What Django does at the end of every request (request_finished): drop the broken
    # connection; the next query opens a new one.
    connection.close()
    assert_nothing_concluded(application, media)

    # Staff post the same fee again in the admin: it concludes, with the serials that the
    # lost transaction never took.
    client.force_login(staff)
    fee_url = reverse("admin:applications_application_fee", args=[application.pk])
    response = client.post(fee_url, fee_post(application), follow=True)

    numbers = [make_number(8, kind, 1) for kind in TWO_KINDS]
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [f"保証契約を締結しました: {'、'.join(map(format_number, numbers))}"]
    assert sorted(Guarantee.objects.values_list("number", flat=True)) == sorted(numbers)
    assert Document.objects.count() == 2  # the two 保証証書; the rest is queued
    [queued] = DBTaskResult.objects.filter(task_path="esure.mail.deliver_mail")
    assert queued.status == TaskResultStatus.READY
    documents = DBTaskResult.objects.filter(task_path="certificates.tasks.produce_documents")
    assert [t.status for t in documents] == [TaskResultStatus.READY] * 2
    application.refresh_from_db()
    assert application.status == Application.Status.CONCLUDED

    run_db_worker()
    assert Document.objects.count() == 6
    assert len(stored_files(media)) == 6


def test_staff_see_the_failure_and_their_retry_concludes(staff, clerk, tsukumi, media, client):
    """The same loss inside the admin's fee box: staff read that nothing was kept, and the
    page they are sent back to — a new request — works and still offers the fee box."""
    make_fee_tables()
    application = approved(clerk.membership.company)
    client.force_login(staff)
    fee_url = reverse("admin:applications_application_fee", args=[application.pk])
    change_url = reverse("admin:applications_application_change", args=[application.pk])

    with connection.execute_wrapper(kill_before(Document._meta.db_table, nth=2)):
        response = client.post(fee_url, fee_post(application))
    assert response.status_code == 302 and response["Location"] == change_url
    # request_finished, which the test client leaves out: the broken connection is dropped.
    close_old_connections()

    page = client.get(change_url)
    assert page.status_code == 200
    [message] = [str(m) for m in page.context["messages"]]
    assert message.startswith("締結できませんでした（すべて取り消しました）: OperationalError")
    assert 'id="fee-form"' in page.content.decode()
    assert_nothing_concluded(application, media)

    assert client.post(fee_url, fee_post(application)).status_code == 302
    assert sorted(Guarantee.objects.values_list("number", flat=True)) == sorted(
        make_number(8, kind, 1) for kind in TWO_KINDS
    )


def test_a_lookup_that_loses_the_database_fails_alone(client, staff, tsukumi):
    """D-Sure: the database dies while a lookup reads the access log (throttling). That
    request answers 500; the next ones, on a new connection, answer as always."""
    [guarantee] = make_concluded(work=make_work(make_company(), **WORK_DATES), by=staff)
    key = registry.current_key(guarantee)
    client.raise_request_exception = False

    with connection.execute_wrapper(kill_on_first_read_of(AccessLog._meta.db_table)):
        response = dsure_lookup(client, guarantee.number_display, key)
    assert response.status_code == 500
    close_old_connections()  # request_finished, as after every request in gunicorn

    assert client.get(reverse("dsure:lookup")).status_code == 200
    response = dsure_lookup(client, guarantee.number_display, key)
    assert response.status_code == 302
    assert response["Location"] == reverse("dsure:viewer", args=[guarantee.number])
    assert client.get(response["Location"]).status_code == 200


def kill_on_first_read_of(table):
    """An execute wrapper that ends this connection's server process just before the first
    query that names `table` (quoted by the ORM or not, as in raw SQL)."""
    pid = backend_pid()
    done = []

    def wrapper(execute, sql, params, many, context):
        if not done and table in sql.replace('"', ""):
            done.append(sql)
            terminate(pid)
        return execute(sql, params, many, context)

    return wrapper
