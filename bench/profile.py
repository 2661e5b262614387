"""Where a benched page spends its time: each page requested N times in-process (Django's test
client, the whole middleware stack, the bench database), timed, and optionally profiled.

    .venv/bin/python bench/profile.py [page ...] [--n 200] [--pyinstrument]

Pages: ping, lookup-right, lookup-wrong, viewer, pdf, certificates, applications (menu 4) and
the floors of the viewer and the lists, floor-viewer, floor-certificates and
floor-applications (bench/floors.py).

Uses bench/run.py's environment and var/bench/manifest.json (run `make bench` or
`BENCH_SCALE=0.01 make bench` first). Lookups write log rows and sessions like real ones.
Prints ms per request per page, wall clock and this process's CPU time (the Python cost,
steadier than the wall clock when other work shares the cores), and the statements one
request runs; with --cprofile, cProfile's costliest functions in CPU time (own, then
cumulative; PROFILE_LINES of them, 40);
with --pyinstrument, a call tree per page (PROFILE_ALL=1: every frame; needs
`pip install pyinstrument`, a developer tool, not a dependency of the project).
"""

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main():
    from run import ADDRESSES, ENV, OUT

    os.environ.update({k: v for k, v in ENV.items() if k not in os.environ or k != "PATH"})
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    # The floor views as the bench's gunicorn serves them (bench/wsgi.py).
    settings.ROOT_URLCONF = "bench.urls"

    from dsure.throttle import IP_HARD_LIMIT

    parser = argparse.ArgumentParser()
    parser.add_argument("pages", nargs="*")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument(
        "--cprofile", action="store_true", help="cProfile's 30 costliest functions per page"
    )
    args = parser.parse_args()

    manifest = json.loads((OUT / "manifest.json").read_text())
    right = itertools.cycle(manifest["right"][1:])
    wrong = itertools.cycle(manifest["wrong"])
    number, key = manifest["viewer_number"], manifest["viewer_key"]
    # Each lookup scenario counts against its own address, as in bench/run.py: the wrong keys
    # never throttle the viewer's right key.
    viewer = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_FOR=ADDRESSES["right"])
    assert viewer.post("/dsure/", {"number": number, "key": key}).status_code == 302
    # The viewer's floor reads its own grant cookie, which its own lookup floor sets.
    floor = {"number": number, "key": key}
    assert viewer.post("/bench-floor/dsure/", floor).status_code == 302
    member = Client(HTTP_HOST="127.0.0.1")
    member.cookies["sessionid"] = manifest["list_session_key"]
    anonymous = Client(HTTP_HOST="127.0.0.1")

    # One client (a new one would load the middleware again), a new visitor each time.
    visitor = Client(HTTP_HOST="127.0.0.1")

    def lookup(pairs):
        n, k = next(pairs) if pairs is right else (next(pairs), "ZZZZZZZZZZZZZZZZ")
        visitor.cookies.clear()
        address = ADDRESSES["right" if pairs is right else "wrong"]
        # Form-encoded, as a browser's form and bench/lua/post_lookup.lua send it (the test
        # client's default, multipart, costs Django's multipart parser: ~17 % of the view).
        return visitor.post(
            "/dsure/",
            urlencode({"number": n, "key": k}),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_FORWARDED_FOR=address,
        )

    pages = {
        "ping": lambda: anonymous.get("/healthz"),
        "lookup-right": lambda: lookup(right),
        "lookup-wrong": lambda: lookup(wrong),
        "viewer": lambda: viewer.get(f"/dsure/{number}/"),
        "pdf": lambda: viewer.get(f"/dsure/{number}/v1.pdf"),
        "certificates": lambda: member.get("/certificates/"),
        "applications": lambda: member.get("/applications/"),
        "floor-certificates": lambda: member.get("/bench-floor/certificates/"),
        "floor-applications": lambda: member.get("/bench-floor/applications/"),
        "floor-viewer": lambda: viewer.get(f"/bench-floor/dsure/{number}/"),
    }
    for name in args.pages or pages:
        call = pages[name]
        # The wrong key as benched: past the address's ceiling (bench/README.md).
        for _ in range(IP_HARD_LIMIT if name == "lookup-wrong" else 5):
            response = call()
            assert response.status_code in (200, 302), (name, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            call()
        statements = len(queries)
        profiler = None
        if args.pyinstrument:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
        elif args.cprofile:
            profiler = _cprofile().Profile(time.process_time)  # CPU, as the figures
            profiler.enable()
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.n):
            response = call()
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if args.cprofile:
            import pstats

            profiler.disable()
            stats = pstats.Stats(profiler).strip_dirs()
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(int(os.environ.get("PROFILE_LINES", 40)))
        elif profiler:
            profiler.stop()
            print(
                profiler.output_text(
                    unicode=True, color=False, show_all=bool(os.environ.get("PROFILE_ALL"))
                )
            )
        print(
            f"{name:<18} {elapsed / args.n * 1000:8.2f} ms per request, of which "
            f"{cpu / args.n * 1000:.2f} ms CPU in this process, {statements} statements "
            f"(n={args.n})",
            flush=True,
        )


def _cprofile():
    """The standard library's cProfile, which imports `profile`: this file's name, first on
    the path while it runs."""
    saved = sys.path[:]
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    try:
        import cProfile
    finally:
        sys.path[:] = saved
    return cProfile


if __name__ == "__main__":
    main()
