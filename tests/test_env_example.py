"""`.env.example` documents every variable the settings read, and nothing they do not."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READ = re.compile(r"""(?:env(?:\.\w+)?|os\.environ\.get|_required)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def _read_by_settings():
    return set(READ.findall((ROOT / "esure" / "settings.py").read_text()))


def _documented():
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z][A-Z0-9_]*=", line)}


def test_settings_read_variables_at_all():
    assert {"SECRET_KEY", "ESURE_AUTH_KEY_SECRET", "DATABASE_URL"} <= _read_by_settings()


def test_every_variable_is_documented():
    assert _read_by_settings() - _documented() == set()


def test_nothing_documented_is_unused():
    assert _documented() - _read_by_settings() == set()
