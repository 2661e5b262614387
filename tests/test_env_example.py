"""`.env.example` documents every variable the settings read, and nothing they do not.

"The settings" are esure/settings.py and gunicorn's ops/gunicorn.conf.py, plus the
variables only docker-compose.yml reads (tests/test_deploy_files.py checks it does).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READ = re.compile(r"""(?:env(?:\.\w+)?|os\.environ\.get|_required)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


READERS = [ROOT / "esure" / "settings.py", ROOT / "ops" / "gunicorn.conf.py"]
# Read by docker-compose.yml for the postgres image (and put into DATABASE_URL), not by esure.
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}
# Read by boto3 itself (the bucket's credentials and region), not by esure's settings.
BOTO3_READS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}


def _read_by_settings():
    read = {name for path in READERS for name in READ.findall(path.read_text())}
    return read | COMPOSE_ONLY | BOTO3_READS


def _documented():
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z][A-Z0-9_]*=", line)}


def test_settings_read_variables_at_all():
    assert {"SECRET_KEY", "ESURE_AUTH_KEY_SECRET", "DATABASE_URL"} <= _read_by_settings()


def test_every_variable_is_documented():
    assert _read_by_settings() - _documented() == set()


def test_nothing_documented_is_unused():
    assert _documented() - _read_by_settings() == set()
