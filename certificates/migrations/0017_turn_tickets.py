"""The tickets of the turns at the number counters (certificates.turns, decision 0053): a
sequence, so that a ticket is drawn and announced in one statement. PostgreSQL only (SQLite has
no advisory locks and takes no turns)."""

from django.db import migrations

SEQUENCE = "certificates_turn_ticket"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # An advisory lock's object id is an int4: the tickets wrap, which keeps their order total.
    schema_editor.execute(f"CREATE SEQUENCE {SEQUENCE} AS integer MAXVALUE 2147483647 CYCLE")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP SEQUENCE {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("certificates", "0016_status_history_shape")]

    operations = [migrations.RunPython(forwards, backwards)]
