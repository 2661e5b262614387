"""Every status list and predicate of the application workflow is derived from the one table
(applications.models.ALLOWED), never restated (issue 16)."""

import pytest

from applications import models
from applications.models import Application

S = Application.Status


def test_the_derived_lists_are_the_documented_ones():
    assert models.OPEN == (S.DRAFT, S.SUBMITTED, S.RETURNED, S.APPROVED)
    assert models.EDITABLE == (S.DRAFT, S.RETURNED)
    assert models.IN_REVIEW == (S.SUBMITTED, S.RETURNED)
    # An approved application counts as guaranteed for menus 2 and 3 (decision 0002).
    assert models.GUARANTEED == (S.APPROVED, S.CONCLUDED)
    assert models.TAKEN == (S.DRAFT, S.SUBMITTED, S.RETURNED, S.APPROVED, S.CONCLUDED)


@pytest.mark.parametrize("status", S.values)
def test_the_predicates_read_the_table(status):
    application = Application(status=status)
    allowed = models.ALLOWED.get(status, set())

    assert [application.can_move_to(s) for s in S] == [s in allowed for s in S]
    assert application.is_editable == (S.SUBMITTED in allowed)
    assert application.can_withdraw == (S.WITHDRAWN in allowed)


def test_the_constraints_name_the_open_statuses():
    conditions = {
        c.name: c.condition for c in Application._meta.constraints if c.name.startswith("app")
    }
    for name in ("application_one_open_per_work_menu", "application_one_open_change_per_guarantee"):
        assert ("status__in", list(models.OPEN)) in conditions[name].children
