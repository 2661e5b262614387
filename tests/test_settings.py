"""esure/settings.py: refuses to start without its secrets; the values the design relies on."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

SECRETS = {
    "SECRET_KEY": "a-secret-key-for-this-test-only-0123456789",
    "ESURE_AUTH_KEY_SECRET": "an-auth-key-secret-for-this-test-only-0123456789",
}
PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
from django.urls import reverse
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ESURE_DEMO_ALLOWED": settings.ESURE_DEMO_ALLOWED,
    "ESURE_STAFF_MFA_REQUIRED": settings.ESURE_STAFF_MFA_REQUIRED,
    "admin": reverse("admin:index"),
    "DATABASE_ENGINE": settings.DATABASES["default"]["ENGINE"],
}))
"""


def run_python(code, **env):
    """Run `code` in a fresh interpreter with esure.settings and only the given variables.

    ESURE_ENV_FILE= (empty) so that no var/.env fills in what the test leaves out.
    """
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in SECRETS and not key.startswith(("ESURE_", "DJANGO_", "DEBUG", "DATABASE_"))
    }
    environment |= {"DJANGO_SETTINGS_MODULE": "esure.settings", "ESURE_ENV_FILE": "", **env}
    return subprocess.run(  # noqa: S603 — our own interpreter, fixed arguments
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


READ_SECRET = "import django; from django.conf import settings; settings.SECRET_KEY"


@pytest.mark.parametrize("missing", list(SECRETS))
def test_refuses_to_start_without_a_secret(missing):
    present = {k: v for k, v in SECRETS.items() if k != missing}

    result = run_python(READ_SECRET, DEBUG="false", **present)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} is not set" in result.stderr


@pytest.mark.parametrize("missing", list(SECRETS))
def test_an_empty_secret_counts_as_missing(missing):
    result = run_python(READ_SECRET, DEBUG="false", **{**SECRETS, missing: ""})
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


def test_debug_does_not_excuse_a_missing_secret():
    result = run_python(READ_SECRET, DEBUG="true", ESURE_AUTH_KEY_SECRET="x" * 40)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_starts_with_both_secrets_and_production_defaults():
    result = run_python(PRINT_SETTINGS, DEBUG="false", **SECRETS)

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    assert values["ESURE_DEMO_ALLOWED"] is False
    assert values["ESURE_STAFF_MFA_REQUIRED"] is True  # on unless the environment says off
    assert values["admin"] == "/admin/"
    assert values["DATABASE_ENGINE"] == "django.db.backends.sqlite3"  # embedded default


def test_environment_moves_the_admin_and_enables_the_demo():
    result = run_python(
        PRINT_SETTINGS,
        DEBUG="true",
        ESURE_ADMIN_PATH="/office-7f3a/",
        ESURE_STAFF_MFA_REQUIRED="false",
        **SECRETS,
    )

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["admin"] == "/office-7f3a/"
    assert values["ESURE_DEMO_ALLOWED"] is True
    assert values["ESURE_STAFF_MFA_REQUIRED"] is False


# The running suite's settings -------------------------------------------------------------


def test_language_and_time():
    assert settings.LANGUAGE_CODE == "ja"
    assert settings.TIME_ZONE == "Asia/Tokyo"
    assert settings.USE_TZ is True


def test_persistent_database_connections():
    database = settings.DATABASES["default"]
    assert database["CONN_MAX_AGE"] > 0
    assert database["CONN_HEALTH_CHECKS"] is True


def test_the_suite_runs_on_postgresql():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_cache_is_shared_by_all_processes():
    # allauth's rate limits count in the cache: locmem would count per worker.
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


def test_user_model():
    assert settings.AUTH_USER_MODEL == "accounts.User"


def test_email_is_the_login_and_must_be_verified():
    login_methods = set(settings.ACCOUNT_LOGIN_METHODS)
    assert login_methods == {"email"}
    assert settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory"
    assert settings.ACCOUNT_UNIQUE_EMAIL is True


def test_staff_mfa_middleware_runs_after_authentication():
    middleware = settings.MIDDLEWARE
    assert middleware.index("accounts.middleware.StaffMfaMiddleware") > middleware.index(
        "django.contrib.auth.middleware.AuthenticationMiddleware"
    )


@pytest.mark.parametrize(
    "values, ok",
    [
        ({}, True),  # the defaults: 5, 6 and 30 days
        ({"ESURE_REFUND_RATE_TENTHS": "6", "ESURE_REFUND_RATE_TENTHS_INTERMEDIATE": "6"}, True),
        ({"ESURE_REFUND_RATE_TENTHS": "0"}, False),
        ({"ESURE_REFUND_RATE_TENTHS": "7"}, False),  # above the intermediate share (6)
        ({"ESURE_REFUND_RATE_TENTHS_INTERMEDIATE": "11"}, False),
        ({"ESURE_REFUND_DUE_DAYS": "0"}, False),
    ],
)
def test_the_refund_settings_are_tenths_and_days(values, ok):
    """前払金の返還 after a 減額 (decision 0026): shares in tenths, a due period of days."""
    result = run_python(READ_SECRET, DEBUG="false", **SECRETS, **values)
    assert (result.returncode == 0) is ok, result.stderr


@pytest.mark.parametrize(
    "value, ok",
    [("", True), ("20:00", True), ("07:30", True), ("8pm", False), ("25:00", False)],
)
def test_the_deferred_documents_time_is_empty_or_a_local_time(value, ok):
    """ESURE_DEFERRED_DOCUMENTS_FROM (decision 0052): at once, or a local HH:MM."""
    result = run_python(READ_SECRET, DEBUG="false", ESURE_DEFERRED_DOCUMENTS_FROM=value, **SECRETS)
    assert (result.returncode == 0) is ok, result.stderr
    if not ok:
        assert "ESURE_DEFERRED_DOCUMENTS_FROM must be empty or a local time HH:MM" in result.stderr
