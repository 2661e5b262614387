"""Every query of each benched page, with EXPLAIN (ANALYZE, BUFFERS), from the bench database.

    .venv/bin/python bench/explain.py    (bench/run.py's environment; run after bench/run.py)

Each page is requested once through Django's test client inside a transaction that is rolled
back (the lookups' log rows and sessions are not kept); every SELECT it ran is explained.
Writes var/bench/explain-scale<BENCH_SCALE>.txt and prints the query count per page.
"""

import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "var" / "bench"


class Rollback(Exception):
    pass


def explained(connection, sql):
    """EXPLAIN (ANALYZE, BUFFERS) of each read in one captured round trip. A round trip may
    hold several statements (the lookup's: BEGIN, the number's lock, the state statement's
    PREPARE on a connection's first lookup, SET LOCAL plan_cache_mode, EXECUTE — decision 0036,
    dsure/throttle.py): the reads and the EXECUTE are explained (the statement the page
    prepared, with the plan it ran), the SET LOCAL is applied, the rest is left out (a second
    PREPARE of the same name would fail)."""
    plans = []
    for statement in re.split(r";\s*\n", sql):
        head = statement.lstrip().upper()
        with connection.cursor() as cursor:
            if head.startswith("SET LOCAL "):
                cursor.execute(statement)
            elif head.startswith(("SELECT", "WITH", "EXECUTE")):
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
                plans.append("\n".join(r[0] for r in cursor.fetchall()) + "\n")
    return plans


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esure.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    manifest = json.loads((OUT / "manifest.json").read_text())
    right_number, right_key = manifest["right"][-1]
    wrong_number = manifest["wrong"][-1]
    user = User.objects.get(pk=manifest["list_user_id"])
    report = []

    def page(name, call):
        with CaptureQueriesContext(connection) as queries:
            response = call()
        report.append((name, response.status_code, list(queries.captured_queries)))

    try:
        with transaction.atomic():
            anonymous = Client(HTTP_HOST="127.0.0.1")
            page("ping /healthz", lambda: anonymous.get("/healthz"))
            page(
                "lookup POST right key",
                lambda: anonymous.post("/dsure/", {"number": right_number, "key": right_key}),
            )
            page("viewer GET", lambda: anonymous.get(f"/dsure/{right_number}/"))
            page("stored PDF", lambda: anonymous.get(f"/dsure/{right_number}/v1.pdf"))
            page(
                "lookup POST wrong key",
                lambda: Client(HTTP_HOST="127.0.0.1").post(
                    "/dsure/",
                    {"number": wrong_number, "key": "ZZZZZZZZZZZZZZZZ"},
                    REMOTE_ADDR="198.51.100.7",
                ),
            )
            member = Client(HTTP_HOST="127.0.0.1")
            member.force_login(user)
            page("contractor list /certificates/", lambda: member.get("/certificates/"))
            page("menu 4 /applications/", lambda: member.get("/applications/"))
            lines = []
            for name, status, queries in report:
                lines.append(f"{'=' * 100}\n{name}: HTTP {status}, {len(queries)} queries\n")
                for q in queries:
                    lines.append(f"--- ({q['time']} s as captured)\n{q['sql']}\n")
                    lines.extend(explained(connection, q["sql"]))
            raise Rollback
    except Rollback:
        pass
    target = OUT / f"explain-scale{manifest['scale']}.txt"
    target.write_text("\n".join(lines))
    for name, status, queries in report:
        print(f"{name:<34} HTTP {status}  {len(queries):>3} queries")
    print(f"written: {target}")


if __name__ == "__main__":
    main()
