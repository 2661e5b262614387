"""Walks the `make run` demo's pages as each demo user, on the demo's own database (SQLite):
run by tests/test_demo_on_sqlite.py in a process of its own, with that database's settings.

Prints one line per page that answered 5xx and, last, a JSON summary; exits 1 if any did.
"""

import json
import re
import sys

import django

LINK = re.compile(r'href="(/[^"#?]*)')
SKIP = ("/static/", "/admin", "logout", ".pdf")
DEMO_USERS = (
    "clerk@demo.esure.example",
    "member@demo.esure.example",
    "doboku@demo.esure.example",
    "bank@demo.esure.example",
    "api@demo.esure.example",
)


def walk(client, depth=2):
    """The pages reachable from / in `depth` clicks: {path: status}."""
    seen, queue = {}, ["/"]
    for _ in range(depth + 1):
        found = []
        for path in queue:
            if path in seen or any(s in path for s in SKIP):
                continue
            response = client.get(path)
            seen[path] = response.status_code
            if response.status_code >= 500:
                print(f"{response.status_code} {path}", flush=True)
            if response.get("Content-Type", "").startswith("text/html"):
                found += LINK.findall(response.content.decode())
        queue = found
    return seen


def main():
    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.models import User

    setup_test_environment()
    pages, failed = {}, 0
    for email in DEMO_USERS:
        client = Client()
        client.force_login(User.objects.get(email=email))
        seen = walk(client)
        pages[email] = seen
        failed += sum(status >= 500 for status in seen.values())
    print(json.dumps({"failed": failed, "pages": pages}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
