"""`manage.py check --deploy` is clean with production settings from the environment alone.

Each test starts a fresh interpreter with only the variables an operator sets (.env.example),
so what is checked is esure/settings.py as production reads it, not the suite's overrides.
"""

import json
import os
import secrets

from django.conf import settings

from tests.test_settings import run_python

# What an operator sets (see .env.example). The database is the suite's own: the checks of
# models on PostgreSQL ask the server for its features.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ESURE_AUTH_KEY_SECRET": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "esure.example.jp",
    "CSRF_TRUSTED_ORIGINS": "https://esure.example.jp",
    "ESURE_SITE_URL": "https://esure.example.jp",
    "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
    "ESURE_HTTPS": "true",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "ESURE_ADMIN_PATH": "office-7f3a/",
}
SEAL = ("ESURE_SEAL_P12", "ESURE_SEAL_PASSPHRASE", "ESURE_TSA_URL")


def production(**overrides):
    """PRODUCTION plus the eシール, which the suite's test PKI puts in the environment when the
    session starts (tests/conftest.py test_pki): production does not start without one."""
    return {**PRODUCTION, **{name: os.environ[name] for name in SEAL}, **overrides}
CHECK_DEPLOY = """
import runpy, sys
sys.argv = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]
runpy.run_path("manage.py", run_name="__main__")
"""


def test_check_deploy_is_clean_with_production_settings():
    result = run_python(CHECK_DEPLOY, **production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_without_https_check_deploy_names_what_is_missing():
    result = run_python(CHECK_DEPLOY, **production(ESURE_HTTPS="false"))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    # HSTS, the https redirect, Secure session and CSRF cookies: all on the one switch.
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output


def test_without_a_seal_production_refuses_to_start():
    without = {name: "" for name in SEAL}
    result = run_python(CHECK_DEPLOY, **production(**without))
    assert result.returncode != 0
    assert "certificates.E001" in result.stdout + result.stderr


def test_without_a_timestamp_service_check_deploy_warns():
    result = run_python(CHECK_DEPLOY, **production(ESURE_TSA_URL=""))
    assert result.returncode != 0
    assert "certificates.W003" in result.stdout + result.stderr


def test_nothing_is_silenced():
    assert settings.SILENCED_SYSTEM_CHECKS == []


def test_a_malformed_proxy_header_refuses_to_start():
    read_settings = "from django.conf import settings; settings.DEBUG"
    result = run_python(
        read_settings, **{**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}
    )
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER takes a header and a value" in result.stderr


# The admin's path comes from the environment ----------------------------------------------

VISIT_ADMIN = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="esure.example.jp")
answers = {}
for path in ("/office-7f3a/", "/office-7f3a/login/", "/admin/", "/admin/login/"):
    response = client.get(path, secure=True)
    answers[path] = [response.status_code, response.get("Location")]
print(json.dumps(answers))
"""


def test_the_admin_moves_with_the_environment():
    # No session cookie, so no query: an unreachable database proves it.
    unreachable = "postgres://esure:password@127.0.0.1:9/esure"
    result = run_python(VISIT_ADMIN, **production(DATABASE_URL=unreachable))
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    status, location = answers["/office-7f3a/"]
    assert status == 302
    assert location.startswith("/office-7f3a/login/")
    # …and its login hands over to allauth's (with MFA), as at the default path.
    status, location = answers["/office-7f3a/login/"]
    assert status == 302
    assert location.startswith("/accounts/login/")
    # The well-known path is not there at all.
    assert answers["/admin/"][0] == 404
    assert answers["/admin/login/"][0] == 404
