"""Real esure processes for tests that need more than the test client: gunicorn web nodes
(with ops/gunicorn.conf.py, as in the image) and `manage.py worker`, on 127.0.0.1 with
free ports, on the test database. Used by tests/test_nodes.py and tests/esure/test_metrics.py.
"""

import contextlib
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.seaweedfs import free_port

ROOT = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent


def node_environ(**extra):
    """The environment of a node: this test database, the suite's secrets (so keys derived
    here verify there), nothing from a var/.env, and `extra` (storage, proxy count, …)."""
    db = connection.settings_dict
    url = "postgres://{user}{password}@{host}:{port}/{name}".format(
        user=urllib.parse.quote(db["USER"] or "postgres"),
        password=":" + urllib.parse.quote(db["PASSWORD"]) if db["PASSWORD"] else "",
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        name=db["NAME"],
    )
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ESURE_", "DJANGO_", "DEBUG", "SECRET_KEY", "AWS_", "PROMETHEUS_"))
    }
    return environ | {
        # This process's secrets: a key derived here verifies there, and back.
        "SECRET_KEY": settings.SECRET_KEY,
        "ESURE_AUTH_KEY_SECRET": settings.ESURE_AUTH_KEY_SECRET,
        "ESURE_ENV_FILE": "",
        "DEBUG": "false",
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_URL": "consolemail://",
        "ESURE_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        **extra,
    }


def collect_static(directory):
    """Static files as the image has them (collectstatic): with DEBUG off the pages name the
    manifest's hashed files, and WhiteNoise serves them from STATIC_ROOT. Returns it."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=node_environ(STATIC_ROOT=str(directory)),
        check=True,
    )
    return directory


class Process:
    """A child process in its own session, stopped (the whole group) by stop()."""

    stop_signal = signal.SIGTERM

    def __init__(self, command, environ, log):
        self.log = open(log, "ab")  # noqa: SIM115 — closed in stop()
        self.popen = subprocess.Popen(  # noqa: S603 — our own programs, fixed arguments
            command,
            cwd=ROOT,
            env=environ,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def terminate(self):
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, self.stop_signal)

    def stop(self):
        """SIGTERM to the group, SIGKILL after 5 s; call terminate() on several first to
        stop them side by side."""
        self.terminate()
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        self.log.close()


class Node(Process):
    """One gunicorn web node: ops/gunicorn.conf.py, `workers` worker processes."""

    stop_signal = signal.SIGINT  # gunicorn's quick shutdown (TERM waits for idle workers)

    def __init__(self, environ, log, *, workers=2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            str(BIN / "gunicorn"),
            "--config",
            str(ROOT / "ops" / "gunicorn.conf.py"),
            "--no-control-socket",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "esure.wsgi:application",
        ]
        super().__init__(command, environ, log)

    def wait_until_up(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):  # noqa: S310
                    return self
            except OSError:
                if self.popen.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: {self.log.name}") from None
                time.sleep(0.1)


def db_worker(environ, log):
    """`manage.py worker` (db_worker without the URL checks, decision 0046) as the worker
    container runs it (polling every 0.1 s)."""
    command = [sys.executable, "manage.py", "worker", "--interval", "0.1", "--no-reload"]
    return Process(command, environ, log)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A browser of plain urllib: one cookie jar for every node (cookies are per host, not
    per port, as in a real browser), redirects not followed, CSRF token from the cookie."""

    def __init__(self, forwarded_for=None):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect
        )
        self.forwarded_for = forwarded_for

    def request(self, url, data=None):
        headers = {"X-Forwarded-For": self.forwarded_for} if self.forwarded_for else {}
        body = None
        if data is not None:
            data = {"csrfmiddlewaretoken": self.csrf_token(), **data}
            body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            with error:
                return error.code, error.headers, error.read()

    def get(self, url):
        return self.request(url)

    def post(self, url, data):
        return self.request(url, data)

    def csrf_token(self):
        for cookie in self.cookies:
            if cookie.name == "csrftoken":
                return cookie.value
        raise AssertionError("no CSRF cookie yet: GET a page with a form first")


def metric_value(text, name, **labels):
    """The value of one sample in Prometheus text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
        if found == wanted:
            return float(match.group(3))
    return 0.0
