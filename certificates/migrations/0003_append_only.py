"""Certificates and their stored PDFs are append-only originals: PostgreSQL refuses any
UPDATE or DELETE of their rows, whatever code (or admin, or shell) tries it. SQLite, the
demo database, relies on the absence of any code path instead."""

from django.db import migrations

TABLES = ["certificates_certificate", "certificates_document"]

FUNCTION = """
CREATE OR REPLACE FUNCTION esure_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'esure: rows of % are append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION esure_append_only()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


class Migration(migrations.Migration):
    dependencies = [("certificates", "0002_guarantees")]
    operations = [migrations.RunPython(forwards, backwards)]
