"""ops/gunicorn.conf.py: workers from WEB_CONCURRENCY, one JSON access-log line per request
without the query string, naming the client behind the proxy. Runs the real gunicorn (as the
Dockerfile's CMD does) on a free port.
"""

import json
import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.test_settings import SECRETS

CONFIG = Path(settings.BASE_DIR) / "ops" / "gunicorn.conf.py"
GUNICORN = Path(sys.executable).parent / "gunicorn"


def test_workers_come_from_web_concurrency(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    assert runpy.run_path(str(CONFIG))["workers"] == 5


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, **headers):
    """GET from the local gunicorn started below (http://127.0.0.1 only)."""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return response.status, response.read()


@pytest.fixture
def gunicorn():
    """gunicorn with the config file, as in the image, bound to a free local port."""
    port = _free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ESURE_", "DJANGO_", "DEBUG", "SECRET_KEY"))
    }
    environment |= {
        **SECRETS,
        "ESURE_ENV_FILE": "",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "WEB_CONCURRENCY": "2",
        "ESURE_TRUSTED_PROXY_COUNT": "1",  # as behind the documented nginx
    }
    command = [str(GUNICORN), "--config", str(CONFIG), "--no-control-socket"]
    command += ["--bind", f"127.0.0.1:{port}", "esure.wsgi:application"]
    process = subprocess.Popen(  # noqa: S603 — our own gunicorn, fixed arguments
        command,
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            _get(url + "/healthz")
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail(process.stderr.read())
            time.sleep(0.1)
    yield url, process
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


def test_access_log_is_json_without_query_strings(gunicorn):
    url, process = gunicorn
    status, body = _get(
        url + "/healthz?token=not-in-the-log",
        **{
            "User-Agent": 'probe "7"',
            "X-Request-ID": "r-1",
            # A spoofed entry the client wrote, then the one the proxy appended.
            "X-Forwarded-For": "10.9.9.9, 203.0.113.77",
        },
    )
    assert (status, body) == (200, b"ok")
    process.terminate()
    stdout, stderr = process.communicate(timeout=30)

    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line["request_id"] == "r-1"]
    assert len(mine) == 1, stdout
    line = mine[0]
    assert line["event"] == "request"
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert line["user_agent"] == 'probe "7"'
    # The client as the limits see it (esure/clientip.py), the hop, and the header as sent.
    assert line["client"] == "203.0.113.77"
    assert line["remote_addr"] == "127.0.0.1"
    assert line["forwarded_for"] == "10.9.9.9, 203.0.113.77"
    assert isinstance(line["duration_ms"], float)
    assert "not-in-the-log" not in stdout + stderr
    # gunicorn's own messages are JSON lines too; two workers, as WEB_CONCURRENCY says.
    messages = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert {"time", "level", "logger", "message"} <= set(messages[0])
    assert sum(m["message"].startswith("Booting worker") for m in messages) == 2, stderr
