"""An index on (ip, at) of failed lookups only, for the per-IP soft limit and alert.

Built with CREATE INDEX CONCURRENTLY on PostgreSQL: the access log is the biggest table
(10,000,000 rows in the bench) and takes an INSERT on every lookup, which a plain CREATE
INDEX would block for the whole build. CONCURRENTLY cannot run inside a transaction, hence
atomic = False. SQLite (make run) builds it plainly.
"""

from django.db import migrations, models

INDEX = models.Index(
    fields=["ip", "at"],
    name="accesslog_ip_failure_at",
    condition=models.Q(outcome="failure"),
)


def create(apps, schema_editor):
    model = apps.get_model("dsure", "AccessLog")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(model, INDEX, concurrently=True)
    else:
        schema_editor.add_index(model, INDEX)


def drop(apps, schema_editor):
    model = apps.get_model("dsure", "AccessLog")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(model, INDEX, concurrently=True)
    else:
        schema_editor.remove_index(model, INDEX)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("dsure", "0002_handover_view_outcome")]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="accesslog", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        )
    ]
