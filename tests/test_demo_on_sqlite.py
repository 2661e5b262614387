"""`make run`'s demo on its own database, SQLite — which the rest of the suite never runs on:
loaded as `make run` loads it, then every page its users reach in two clicks answers without a
server error. (Menu 4 answered 500 on SQLite for a day: an ordered aggregate that SQLite
before 3.44 does not have, while every test ran on PostgreSQL.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOADS = (
    ("migrate", "--noinput", "-v", "0"),
    ("createcachetable",),
    ("load_demo",),
    ("load_demo_advances",),
    ("load_demo_api",),
    ("load_demo_reservations",),
)


@pytest.fixture(scope="module")
def demo_walk(tmp_path_factory):
    here = tmp_path_factory.mktemp("demo")
    env = {
        **os.environ,
        "ESURE_ENV_FILE": "",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{here / 'demo.sqlite3'}",
        "MEDIA_ROOT": str(here / "media"),
        "SECRET_KEY": "test-only-demo-secret-key-0123456789-0123456789",
        "ESURE_AUTH_KEY_SECRET": "test-only-demo-auth-key-secret-0123456789",
        "ESURE_STAFF_MFA_REQUIRED": "false",
        "EMAIL_URL": "consolemail://",
        "DJANGO_SETTINGS_MODULE": "esure.settings",
    }
    env.pop("ESURE_TASKS_BACKEND", None)  # make run's own (the database queue)
    for command in LOADS:
        subprocess.run(  # noqa: S603 — manage.py with fixed arguments
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    walked = subprocess.run(
        [sys.executable, "-m", "tests.demo_walk"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return walked


def test_every_page_the_demo_users_reach_answers_without_a_server_error(demo_walk):
    assert demo_walk.returncode == 0, demo_walk.stdout[-3000:] + demo_walk.stderr[-3000:]
    summary = json.loads(demo_walk.stdout.strip().splitlines()[-1])
    assert summary["failed"] == 0


def test_the_walk_reached_the_contractors_lists_and_the_office_inbox(demo_walk):
    pages = json.loads(demo_walk.stdout.strip().splitlines()[-1])["pages"]
    clerk = pages["clerk@demo.esure.example"]
    assert clerk["/applications/"] == 200  # menu 4
    assert clerk["/certificates/"] == 200
    assert pages["member@demo.esure.example"]["/applications/"] == 200
    assert pages["doboku@demo.esure.example"]["/dsure/office/"] == 200
    assert all(len(seen) >= 4 for seen in pages.values())
