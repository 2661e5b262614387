"""Create or update the database role the web and worker processes connect as (decision 0031).

Run as the owner role (the one that runs `migrate`), after every `migrate`: new tables need
their grants. Idempotent. The role owns nothing and may only read and write rows: it cannot
create, alter or drop a table, switch off a trigger, or TRUNCATE; on the append-only tables
(a trigger named `*_append_only`: certificates, their PDFs, the audit trail) it may only
SELECT and INSERT, on the forward-only ones (`*_forward_only`: the audit head) not DELETE,
and the migration history it may only read. Default privileges give tables that a later
migration creates the same read/write grants at once; the append-only REVOKEs for them come
with the next run of this command, which is why it runs after every `migrate`.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

# Triggers of the append-only tables end in these names (certificates/0003, audit/0002).
APPEND_ONLY_SUFFIX = "_append_only"
FORWARD_ONLY_SUFFIX = "_forward_only"
# Read-only for the app: the owner's record of which migrations ran.
READ_ONLY = ["django_migrations"]


def protected_tables(cursor, suffix):
    """The tables of the current schema that carry a trigger whose name ends in `suffix`."""
    cursor.execute(
        """
        SELECT DISTINCT c.relname FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND n.nspname = current_schema() AND t.tgname LIKE %s
        ORDER BY 1
        """,
        ["%" + suffix.replace("_", r"\_")],
    )
    return [row[0] for row in cursor.fetchall()]


def grant_app_role(role, password=None):
    """Create `role` if missing (LOGIN, no other attribute) and set its grants; returns the
    append-only and forward-only tables it was limited on."""
    if connection.vendor != "postgresql":
        raise CommandError("grant_app_role needs PostgreSQL.")
    role_id = sql.Identifier(role)
    with transaction.atomic(), connection.cursor() as cursor:

        def run(statement, **names):
            # Identifiers quoted by psycopg, then plain SQL text for Django's cursor.
            cursor.execute(sql.SQL(statement).format(**names).as_string(connection.connection))

        cursor.execute("SELECT current_user, current_database(), current_schema()")
        owner, database, schema = cursor.fetchone()
        if owner == role:
            raise CommandError(f"Run this as the owner role, not as {role}.")
        schema_id = sql.Identifier(schema)
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            run("CREATE ROLE {role} LOGIN", role=role_id)
        run(
            "ALTER ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
            "NOBYPASSRLS INHERIT",
            role=role_id,
        )
        if password:
            run(
                "ALTER ROLE {role} PASSWORD {password}",
                role=role_id,
                password=sql.Literal(password),
            )
        statements = [
            "GRANT CONNECT ON DATABASE {db} TO {role}",
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            # PostgreSQL < 15 lets every role create tables in public: not this one.
            "REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
            "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
            "GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        ]
        names = {
            "db": sql.Identifier(database),
            "role": role_id,
            "schema": schema_id,
            "owner": sql.Identifier(owner),
        }
        for statement in statements:
            run(statement, **names)
        append_only = protected_tables(cursor, APPEND_ONLY_SUFFIX)
        forward_only = protected_tables(cursor, FORWARD_ONLY_SUFFIX)
        limits = [(t, "UPDATE, DELETE") for t in append_only]
        limits += [(t, "DELETE") for t in forward_only]
        limits += [(t, "INSERT, UPDATE, DELETE") for t in READ_ONLY]
        for table, privileges in limits:
            run(
                f"REVOKE {privileges} ON {{table}} FROM {{role}}",
                table=sql.Identifier(table),
                role=role_id,
            )
    return append_only, forward_only


class Command(BaseCommand):
    help = "Create or update the app's database role (ESURE_APP_DB_ROLE): rows only, no DDL."

    def add_arguments(self, parser):
        parser.add_argument("--role", default=settings.ESURE_APP_DB_ROLE)

    def handle(self, *args, role, **options):
        append_only, forward_only = grant_app_role(role, settings.ESURE_APP_DB_PASSWORD or None)
        self.stdout.write(
            f"role {role}: read/write rows; append-only: {', '.join(append_only) or '-'}; "
            f"forward-only: {', '.join(forward_only) or '-'}"
        )
