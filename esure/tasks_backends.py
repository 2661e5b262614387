"""The Tasks backend of the test suite: runs each task at once, but only after the
enqueuing transaction commits, as the database backend's worker would (it sees only
committed rows). A rolled-back conclusion therefore sends no mail in tests either."""

import dataclasses
from functools import partial

from django.db import transaction
from django.tasks.backends.immediate import ImmediateBackend


class ImmediateOnCommitBackend(ImmediateBackend):
    # A deferred retry runs at once here: tests need not wait for its back-off.
    supports_defer = True

    def enqueue(self, task, args, kwargs):
        self.validate_task(task)
        now = dataclasses.replace(task, run_after=None)
        transaction.on_commit(partial(ImmediateBackend.enqueue, self, now, args, kwargs))
