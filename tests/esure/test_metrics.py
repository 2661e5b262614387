"""/metrics (esure/metrics.py, esure/metrics_view.py): Prometheus text from prometheus-client,
only for ESURE_READYZ_ALLOW (decision 0013); requests and latency per view, D-Sure outcomes,
conclusions, storage errors, and gauges read from the database; under gunicorn every worker
process is counted (multiprocess mode)."""

import datetime
import urllib.request

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client import REGISTRY

from certificates import services as registry
from certificates.numbering import format_number, make_number
from dsure import throttle
from dsure.models import NumberLock
from esure.choices import GuaranteeKind
from tests.conftest import WORK_DATES, dsure_lookup, make_concluded
from tests.servers import Node, metric_value, node_environ


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client, **extra):
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    return response.content.decode()


# --- Who may read it ---------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "status"), [("10.1.2.3", 200), ("203.0.113.5", 403)])
def test_only_the_readyz_addresses_read_the_metrics(client, db, address, status):
    response = client.get("/metrics", REMOTE_ADDR=address)
    assert response.status_code == status
    assert "no-store" in response["Cache-Control"]
    if status == 403:
        assert b"esure_" not in response.content


def test_metrics_refuse_post(client, db):
    assert client.post("/metrics").status_code == 405


# --- Counters --------------------------------------------------------------------------------


def test_requests_are_counted_per_url_name_method_and_status(client, db):
    labels = {"view": "dsure:lookup", "method": "GET", "status": "200"}
    before = sample("esure_http_requests_total", **labels)
    observed = sample("esure_http_request_duration_seconds_count", view="dsure:lookup")
    client.get(reverse("dsure:lookup"))
    client.get(reverse("dsure:lookup"))
    assert sample("esure_http_requests_total", **labels) == before + 2
    assert sample("esure_http_request_duration_seconds_count", view="dsure:lookup") == (
        observed + 2
    )
    text = scrape(client)
    assert 'esure_http_requests_total{method="GET",status="200",view="dsure:lookup"}' in text


def test_an_unrouted_path_is_one_label_not_one_per_path(client, db):
    labels = {"view": "<unresolved>", "method": "GET", "status": "404"}
    before = sample("esure_http_requests_total", **labels)
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    assert sample("esure_http_requests_total", **labels) == before + 2


@pytest.mark.usefixtures("frozen")
def test_d_sure_outcomes_are_counted(client, clerk, tsukumi):
    [guarantee] = make_concluded(company=clerk.membership.company, **WORK_DATES)
    before = {o: sample("esure_dsure_lookups_total", outcome=o) for o in ("opened", "wrong_key")}
    dsure_lookup(client, guarantee.number_display, "ABCD-EFGH-JKMN-PQRS")
    dsure_lookup(client, guarantee.number_display, registry.current_key(guarantee))
    assert sample("esure_dsure_lookups_total", outcome="wrong_key") == before["wrong_key"] + 1
    assert sample("esure_dsure_lookups_total", outcome="opened") == before["opened"] + 1


@pytest.mark.usefixtures("frozen")
def test_a_locked_number_is_counted_and_shown(client, db):
    number = make_number(8, GuaranteeKind.ADVANCE, 9_999_999)
    now = timezone.now()
    NumberLock.objects.create(number=number, at=now, until=now + throttle.lock_period())
    before = sample("esure_dsure_lookups_total", outcome="locked")
    dsure_lookup(client, format_number(number), "ABCD-EFGH-JKMN-PQRS")
    assert sample("esure_dsure_lookups_total", outcome="locked") == before + 1
    assert "esure_dsure_locked_numbers 1.0" in scrape(client)


@pytest.mark.usefixtures("frozen")
def test_conclusions_count_only_when_committed(clerk, tsukumi, django_capture_on_commit_callbacks):
    before = sample("esure_conclusions_total")
    with django_capture_on_commit_callbacks(execute=True):
        make_concluded(company=clerk.membership.company, **WORK_DATES)
    assert sample("esure_conclusions_total") == before + 1
    with django_capture_on_commit_callbacks(execute=False):  # never committed
        make_concluded(company=clerk.membership.company, **WORK_DATES)
    assert sample("esure_conclusions_total") == before + 1


@pytest.mark.usefixtures("frozen")
def test_a_store_that_fails_is_counted(s3_unreachable, clerk, tsukumi):
    before = sample("esure_document_errors_total", stage="store")
    with pytest.raises(registry.StorageError):
        make_concluded(company=clerk.membership.company, **WORK_DATES)
    assert sample("esure_document_errors_total", stage="store") == before + 1


# --- Gauges from the database ----------------------------------------------------------------


def _task(status, *, minutes_ago=0, started_minutes_ago=None):
    task = DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="esure.mail.deliver_mail",
        backend_name="default",
        run_after=get_date_max(),
    )
    now = timezone.now()
    DBTaskResult.objects.filter(pk=task.pk).update(
        enqueued_at=now - datetime.timedelta(minutes=minutes_ago),
        started_at=None
        if started_minutes_ago is None
        else now - datetime.timedelta(minutes=started_minutes_ago),
    )


def test_queue_depth_failed_and_stuck_tasks_come_from_the_database(client, db):
    _task("READY", minutes_ago=7)
    _task("READY")
    _task("FAILED", minutes_ago=60)
    _task("RUNNING", minutes_ago=30, started_minutes_ago=16)  # a worker died
    _task("RUNNING", started_minutes_ago=1)
    text = scrape(client)
    assert metric_value(text, "esure_tasks", status="READY") == 2
    assert metric_value(text, "esure_tasks", status="FAILED") == 1
    assert metric_value(text, "esure_tasks", status="RUNNING") == 2
    assert metric_value(text, "esure_tasks_stuck") == 1
    assert 7 * 60 <= metric_value(text, "esure_tasks_oldest_due_seconds") < 8 * 60


def test_readiness_checks_are_gauges(client, db):
    text = scrape(client)
    for check in ("database", "migrations", "cache", "storage", "tasks"):
        assert metric_value(text, "esure_ready", check=check) == 1


def test_an_unreachable_store_shows_as_storage_not_ready(s3_unreachable, client, db):
    assert metric_value(scrape(client), "esure_ready", check="storage") == 0


# --- Under gunicorn: every worker counted ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_gunicorn_workers_are_summed(tmp_path):
    """Two workers: 40 requests are spread over both, and /metrics, answered by one of
    them, counts all 40 (multiprocess mode; a per-process registry would show about half)."""
    node = Node(node_environ(), tmp_path / "node.log", workers=2)
    try:
        node.wait_until_up()
        for _ in range(40):
            with urllib.request.urlopen(node.url + "/healthz", timeout=10) as response:  # noqa: S310
                assert response.status == 200
        totals = set()
        for _ in range(6):
            with urllib.request.urlopen(node.url + "/metrics", timeout=10) as response:  # noqa: S310
                text = response.read().decode()
            count = metric_value(
                text, "esure_http_requests_total", view="healthz", method="GET", status="200"
            )
            # wait_until_up's probes count too.
            assert count >= 40
            totals.add(count)
        # Whichever worker answered, the same total.
        assert len(totals) == 1
    finally:
        node.stop()
