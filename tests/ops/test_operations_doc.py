"""docs/operations.md matches the code: the commands, make targets, files and drill variables
it names exist, and its sample drill output is what ops/restore-drill.sh prints."""

import re
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "operations.md").read_text()
SCRIPT = (ROOT / "ops" / "restore-drill.sh").read_text()


def test_every_manage_py_command_named_exists():
    named = set(re.findall(r"manage\.py (\w+)", DOC))
    assert {"verify_storage", "verify_keys", "export_key_check", "verify_audit"} <= named
    assert named <= set(get_commands())


def test_every_make_target_named_exists():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    named = set(re.findall(r"`make ([\w-]+)", DOC))
    assert "restore-drill" in named
    assert named <= targets


def test_every_repository_file_named_exists():
    named = set(
        re.findall(r"`((?:ops|docs|certificates|tests|esure)/[\w./-]+\.(?:py|sh|md))`", DOC)
    )
    assert "ops/restore-drill.sh" in named
    assert [name for name in named if not (ROOT / name).exists()] == []


def test_every_drill_variable_named_is_read_by_the_script():
    named = set(re.findall(r"\b(DRILL_[A-Z_]+)\b", DOC))
    assert named and all(f"${{{name}" in SCRIPT or f"${name}" in SCRIPT for name in named)


def test_the_sample_output_is_what_the_script_prints():
    sample = re.search(r"```\n(restore drill: OK\n.*?)```", DOC, re.S).group(1).splitlines()
    labels = [re.match(r"\s*(restore drill: OK|[a-z ]+:)", line) for line in sample]
    printed = {m.group(1).strip() for m in labels if m}
    assert {"restore drill: OK", "source:", "backup:", "negative:", "timings:"} <= printed
    for label in printed - {"documents OK:", "keys OK:", "audit chain OK:"}:
        assert f'"  {label}' in SCRIPT or f'"{label}' in SCRIPT, label
