"""bench/gunicorn_ab.py turns BENCH_AB_CONFIGS into gunicorn's own arguments."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from bench import gunicorn_ab  # needs the bench folder importable (its `run`)


def test_each_configuration_names_its_class_workers_and_threads(monkeypatch):
    monkeypatch.setenv("BENCH_AB_CONFIGS", "sync:2, gthread:2x4")
    assert gunicorn_ab.configs() == [
        {"name": "sync:2", "args": ["--workers", "2", "--worker-class", "sync"]},
        {
            "name": "gthread:2x4",
            "args": ["--workers", "2", "--worker-class", "gthread", "--threads", "4"],
        },
    ]


def test_the_default_compares_two_three_and_four_sync_workers_and_threads(monkeypatch):
    monkeypatch.delenv("BENCH_AB_CONFIGS", raising=False)
    assert [c["name"] for c in gunicorn_ab.configs()] == [
        "sync:2",
        "sync:3",
        "sync:4",
        "gthread:2x4",
    ]
