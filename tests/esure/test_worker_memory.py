"""A task worker returns what its task freed to the system (esure/memory.py, issue 22):
glibc's malloc_trim(0) after every task the worker runs, done or failed."""

import platform

import pytest

from esure import mail, memory
from tests.conftest import run_db_worker

pytestmark = pytest.mark.usefixtures("database_tasks")


@pytest.fixture
def trims(monkeypatch):
    """The arguments of every malloc_trim call, instead of trimming."""
    calls = []
    monkeypatch.setattr(memory, "_malloc_trim", lambda: calls.append)
    return calls


# The worker's loop closes connections between tasks, as db_worker does: real transactions.
@pytest.mark.django_db(transaction=True)
def test_the_worker_trims_the_heap_after_each_task(trims):
    for n in range(2):
        mail.deliver_mail.enqueue(subject=f"件名{n}", body="本文", recipients=["a@example.jp"])
    assert trims == []
    run_db_worker()
    assert trims == [0, 0]


@pytest.mark.django_db(transaction=True)
def test_a_failed_task_is_followed_by_a_trim_too(trims):
    # A header with a newline cannot be sent: the task fails for good at once.
    mail.deliver_mail.enqueue(subject="件名\n注入", body="本文", recipients=["a@example.jp"])
    run_db_worker()
    assert trims == [0]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_glibc_s_malloc_trim_is_found():
    assert memory._malloc_trim() is not None
    memory.release_freed_memory()


def test_without_malloc_trim_nothing_is_done(monkeypatch):
    monkeypatch.setattr(memory, "_malloc_trim", lambda: None)
    memory.release_freed_memory()
