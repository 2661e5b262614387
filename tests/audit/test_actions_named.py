"""Every action the code writes to the audit trail is one of AuditEvent.Action's choices, so
the admin shows its Japanese name and never a raw code."""

import pathlib
import re

from audit.models import AuditEvent
from certificates.models import Submission

ROOT = pathlib.Path(__file__).resolve().parents[2]
LITERAL = re.compile(r'action="([a-z_]+\.[a-z_]+)"')


def literal_actions():
    found = {}
    for path in ROOT.glob("*/**/*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {"tests", ".venv", "node_modules", "var"} or "migrations" in parts:
            continue
        for action in LITERAL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(action, str(path.relative_to(ROOT)))
    return found


def test_the_scan_sees_the_code():
    # A negative control: the scan finds actions we know are written.
    found = literal_actions()
    assert "key.shown" in found
    assert "submission.delivered" in found


def test_every_literal_action_is_a_named_choice():
    unnamed = {a: where for a, where in literal_actions().items() if a not in AuditEvent.Action}
    assert unnamed == {}


def test_every_answer_of_an_office_is_a_named_choice():
    # certificates.services writes f"submission.{status}" for each answer.
    for status in Submission.Status.values:
        assert f"submission.{status}" in AuditEvent.Action.values, status


def test_every_move_of_a_plan_or_withdrawal_is_a_named_choice():
    # advances.services._move writes f"{prefix}.{to}" for each move of its status tables
    # (withdrawal.voided: closed by the account's 指定解除).
    from advances import services

    for workflow, prefix in services.WORKFLOWS.values():
        for targets in workflow.table.values():
            for to in sorted(targets):
                assert f"{prefix}.{to}" in AuditEvent.Action.values, (prefix, to)
