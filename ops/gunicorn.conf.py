"""gunicorn settings for the esure web process (the Dockerfile's CMD passes this file).

Command-line options still win over this file, e.g. `--bind 127.0.0.1:9000`.
"""

import datetime
import json
import logging
import os
import tempfile
from pathlib import Path

from gunicorn import glogging

bind = ["0.0.0.0:8000"]
# Sync worker processes per container (decision 0029): one per core when PostgreSQL shares the
# host (bench/gunicorn_ab.py), up to 2 x cores with it elsewhere; scale out with more containers.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# WeasyPrint leaves a worker at 180-280 MB after rendering (DESIGN.md §10): recycle workers
# now and then, at different times so they never all restart together. Not too often: a new
# worker reconnects to PostgreSQL and compiles its templates again. At 1,000 the bench's
# workers were replaced several times a second under load and the ping served 2,300 req/s
# instead of 4,000 (bench/README.md).
max_requests = 10_000
max_requests_jitter = 1_000
# Load Django once in the master: a missing secret stops gunicorn at start with Django's
# message, instead of workers dying one after another; forked workers share the memory.
preload_app = True
# One gunicorn per container needs no control socket (and several side by side would share
# one path); the Dockerfile also passes --no-control-socket.
control_socket_disable = True
# Workers' heartbeat files on tmpfs: a container's /tmp may be a slow overlay filesystem.
worker_tmp_dir = "/dev/shm"  # noqa: S108 — gunicorn's own files, not shared data
accesslog = "-"
errorlog = "-"

# Prometheus metrics in multiprocess mode (esure/metrics.py): each worker writes its counters
# to files in this directory and /metrics adds up every worker's. It must be set before the
# app (prometheus-client) is loaded, which preload_app does right after this file. Emptied
# here, at each start: the counters of a previous run are not this run's.
metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(
    prefix="esure-metrics-"
)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
for stale in Path(metrics_dir).glob("*.db"):
    stale.unlink()


def child_exit(server, worker):
    """A worker ended (recycled after max_requests, or died): its counters stay in the sum,
    its live gauges go (prometheus-client's multiprocess rule)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class JsonLines(logging.Formatter):
    """gunicorn's own messages (start, worker boot and exit, errors) as JSON lines, in the
    shape of Django's (esure/logging.py): time, level, logger, message, exception."""

    def format(self, record):
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class JsonAccessLogger(glogging.Logger):
    """One JSON object per request on stdout, for the log pipeline to parse; gunicorn's own
    messages as JSON lines on stderr.

    Only what an operator needs: the path without its query string, no Referer (it may carry
    another site's query string), no cookies or other headers. The 認証キー is never in a URL
    (DESIGN.md §6); leaving query strings out keeps anything else out of the log too.
    """

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonLines())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        # The app is loaded (preload_app), so its settings are: the one proxy count.
        from django.conf import settings

        from esure.clientip import client_address

        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        line = {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "event": "request",
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            # The client as every limit and the audit trail see it: X-Forwarded-For counted
            # from the right by ESURE_TRUSTED_PROXY_COUNT (esure/clientip.py). remote_addr is
            # the last hop (behind a proxy: the proxy), forwarded_for the header as received.
            "client": client_address(environ, settings.ESURE_TRUSTED_PROXY_COUNT),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "request_id": environ.get("HTTP_X_REQUEST_ID"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
            "pid": os.getpid(),
        }
        self.access_log.info(json.dumps(line, ensure_ascii=False))


logger_class = JsonAccessLogger
