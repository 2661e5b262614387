"""Prometheus metrics for operators (docs/operations.md "Metrics", decision 0013).

prometheus-client, in multiprocess mode under gunicorn: ops/gunicorn.conf.py sets
PROMETHEUS_MULTIPROC_DIR before the app is loaded, so each worker process writes its
counters to files there and /metrics adds up every worker's (a plain registry would show
only the one worker that happened to answer the scrape). Without it (runserver, the tests)
the process's own registry is served.

What a person is alerted on is computed from the database at scrape time (the Tasks queue,
D-Sure locks; esure/metrics_view.py): it is the same on every node and counts the
db_worker's work too, whichever process or container did it. Counters are per web node;
Prometheus sums the nodes. This module imports no app: the registry and the faces count
into it.
"""

import time

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "esure_http_requests",
    "HTTP requests answered, by URL name, method and status code.",
    ["view", "method", "status"],
)
LATENCY = Histogram(
    "esure_http_request_duration_seconds",
    "Time from the request entering Django to the response leaving it, by URL name.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DSURE_LOOKUPS = Counter(
    "esure_dsure_lookups",
    "D-Sure number + key lookups by outcome: opened, wrong_key (also unknown numbers and "
    "old keys), delayed (growing delay or address limit), locked, malformed.",
    ["outcome"],
)
CONCLUSIONS = Counter(
    "esure_conclusions",
    "Guarantee versions issued and committed (v1 at 締結, later versions at changes).",
)
DOCUMENT_ERRORS = Counter(
    "esure_document_errors",
    "Issuance documents that could not be produced, by stage (render, sign, store); the "
    "action that needed them was rolled back.",
    ["stage"],
)
NUMBER_GUESSES = Counter(
    "esure_number_guesses",
    "保証証書 rendered and sealed before the number counter was locked, by whether the number "
    "came out as its turn said (right) or it was made again under the lock (missed; decision "
    "0053).",
    ["outcome"],
)


def view_name(request):
    """The URL name of the view that answered (namespaced), or <unresolved> (404 before
    routing): a bounded label, never the raw path (numbers, ids and garbage would each make
    a time series of their own)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unresolved>"
    if match.view_name and match.url_name:
        return match.view_name
    # A pattern without a name: the view's dotted path (still one per pattern).
    return match._func_path


class MetricsMiddleware:
    """Counts every response and its duration (outermost, so it sees what the client sees)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_name(request)
        REQUESTS.labels(view, request.method, str(response.status_code)).inc()
        LATENCY.labels(view).observe(time.perf_counter() - started)
        return response


def count_lookup(result):
    """One D-Sure lookup's outcome (dsure.services.Result) into esure_dsure_lookups."""
    DSURE_LOOKUPS.labels(LOOKUP_OUTCOMES.get(result.value, result.value)).inc()


LOOKUP_OUTCOMES = {
    "ok": "opened",
    "no_match": "wrong_key",
    "wait": "delayed",
    "locked": "locked",
    "number_format": "malformed",
    "key_format": "malformed",
}
