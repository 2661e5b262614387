"""The audit trail is append-only in PostgreSQL (decision 0006): a trigger refuses any
UPDATE or DELETE of an event row and any TRUNCATE of the table, whatever code (admin,
shell, raw SQL) tries it; the head row may move forward only, never be deleted. SQLite, the
demo database, relies on the absence of any code path and on verify_audit instead."""

from django.db import migrations

EVENTS = "audit_auditevent"
HEAD = "audit_audithead"

FUNCTIONS = """
CREATE OR REPLACE FUNCTION esure_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'esure: audit events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION esure_audit_head_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.last_seq < OLD.last_seq THEN
        RAISE EXCEPTION 'esure: the audit head only moves forward (% refused)', TG_OP;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

TRIGGERS = [
    f"CREATE TRIGGER {EVENTS}_append_only BEFORE UPDATE OR DELETE ON {EVENTS} "
    "FOR EACH ROW EXECUTE FUNCTION esure_audit_append_only()",
    # Named in tests/conftest.py: the test database turns this one off for Django's flush.
    f"CREATE TRIGGER {EVENTS}_no_truncate BEFORE TRUNCATE ON {EVENTS} "
    "FOR EACH STATEMENT EXECUTE FUNCTION esure_audit_append_only()",
    f"CREATE TRIGGER {HEAD}_forward_only BEFORE UPDATE OR DELETE ON {HEAD} "
    "FOR EACH ROW EXECUTE FUNCTION esure_audit_head_forward_only()",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS, params=None)
    for statement in TRIGGERS:
        schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table in [
        (f"{EVENTS}_append_only", EVENTS),
        (f"{EVENTS}_no_truncate", EVENTS),
        (f"{HEAD}_forward_only", HEAD),
    ]:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS esure_audit_append_only()", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS esure_audit_head_forward_only()", params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
