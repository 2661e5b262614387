"""The role web and worker connect as (decision 0031): it does everything the app does, and
nothing that would rewrite history — it owns no table, so it cannot switch off the
append-only triggers, and it holds no UPDATE or DELETE on certificates, their PDFs or the audit
trail. `manage.py grant_app_role` makes it, run here on the test database as the owner."""

import io
import secrets

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit import services as audit
from audit.models import AuditEvent
from certificates.models import Certificate
from tests.conftest import dsure_lookup, make_concluded, make_member

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="roles are PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]
INSUFFICIENT_PRIVILEGE = "42501"  # also "must be owner of table"


@pytest.fixture
def app_role(settings):
    """A fresh role made by the command (roles are per cluster: a unique name per test, so
    engineers and xdist workers sharing the server never meet), dropped afterwards."""
    role = f"esure_app_test_{secrets.token_hex(4)}"
    settings.ESURE_APP_DB_PASSWORD = secrets.token_hex(16)
    call_command("grant_app_role", role=role, stdout=io.StringIO())
    yield role, settings.ESURE_APP_DB_PASSWORD
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')
        cursor.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def as_app(app_role):
    """Django's connection logs in as the app role for the test's body."""
    role, password = app_role
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(USER=role, PASSWORD=password)
    yield role
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(original)


def refused(statement):
    """The SQLSTATE PostgreSQL answers `statement` with, run as the current connection."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    except DatabaseError as error:
        return getattr(error.__cause__, "sqlstate", None)
    return None


def test_the_app_role_does_what_the_app_does(as_app, client):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (as_app, False)
    # A conclusion: numbers, guarantees, certificate versions, PDFs, audit events, mail tasks.
    (guarantee,) = make_concluded()
    # Audit events append; a D-Sure lookup writes its access log, the session and the cache.
    audit.record(actor=make_member(), action="staff.login", data={})
    assert dsure_lookup(client, guarantee.number, "WRONG-KEY").status_code == 200
    assert Certificate.objects.filter(guarantee=guarantee).count() == 1
    assert audit.verify_chain().ok
    assert AuditEvent.objects.count() >= 2


# Each must be refused for want of privilege (SQLSTATE 42501), not for its syntax.
HISTORY_REWRITES = [
    "UPDATE certificates_certificate SET amount = 1",
    "DELETE FROM certificates_certificate",
    "UPDATE certificates_document SET kind = kind",
    "DELETE FROM certificates_document",
    "UPDATE audit_auditevent SET action = 'x'",
    "DELETE FROM audit_auditevent",
    "TRUNCATE audit_auditevent",
    "DELETE FROM audit_audithead",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only",
    "ALTER TABLE certificates_certificate DISABLE TRIGGER ALL",
    "SET session_replication_role = replica",  # would skip every trigger
    "DROP TABLE audit_auditevent",
    "ALTER TABLE certificates_certificate ADD COLUMN x int",
    "CREATE TABLE esure_scratch (id int)",
    "INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'x', now())",
    "DROP TRIGGER certificates_certificate_append_only ON certificates_certificate",
]


def test_the_app_role_cannot_rewrite_history(as_app):
    # One test for all (each transactional test ends with a flush of every table).
    answers = {statement: refused(statement) for statement in HISTORY_REWRITES}
    assert answers == dict.fromkeys(HISTORY_REWRITES, INSUFFICIENT_PRIVILEGE)


def test_the_owner_can_and_the_command_is_idempotent(app_role):
    # The same statement as the owner (the negative control): privileges, not syntax, refuse.
    assert refused("UPDATE certificates_document SET kind = kind WHERE false") is None
    role, _ = app_role
    out = io.StringIO()
    call_command("grant_app_role", role=role, stdout=out)
    assert out.getvalue().strip() == (
        f"role {role}: read/write rows; append-only: audit_auditevent, certificates_certificate,"
        " certificates_document; forward-only: audit_audithead"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege(%s, 'audit_auditevent', 'INSERT'),"
            " has_table_privilege(%s, 'audit_auditevent', 'UPDATE'),"
            " has_table_privilege(%s, 'accounts_company', 'UPDATE'),"
            " has_table_privilege(%s, 'django_migrations', 'INSERT')",
            [role] * 4,
        )
        assert cursor.fetchone() == (True, False, True, False)


def test_tables_a_later_migration_creates_are_readable_at_once(app_role):
    """Default privileges: a new table is usable by the app before grant_app_role runs again."""
    role, _ = app_role
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE esure_later (id int)")
        cursor.execute("SELECT has_table_privilege(%s, 'esure_later', 'SELECT, INSERT')", [role])
        assert cursor.fetchone() == (True,)
        cursor.execute("DROP TABLE esure_later")
