"""Before/after on the same machine and data: two source trees (e.g. a `git worktree` of an
older commit and this one) each served by gunicorn in turn — the same settings for both, 2
workers, `--max-requests 100000` — and every page of bench/run.py (not the floors) run with wrk,
each preceded by a ping, in rounds that alternate the order of the trees (BENCH_ROUNDS, 3).

    git worktree add /tmp/before <commit> && ln -s "$PWD/.venv" /tmp/before/.venv
    BENCH_DURATION=5 .venv/bin/python bench/compare.py /tmp/before "$PWD"

Uses the loaded bench database and var/bench/ of this tree (run `make bench` first). Prints
req/s and ratio to ping per scenario and tree.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # bench/run.py: environment, wrk and HTTP helpers

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def serve(tree):
    process = subprocess.Popen(
        [
            str(Path(run.PY).parent / "gunicorn"),
            "--config",
            f"{tree}/ops/gunicorn.conf.py",
            "--no-control-socket",
            "--workers",
            "2",
            "--max-requests",
            "100000",
            "--bind",
            f"127.0.0.1:{run.PORT}",
            "--access-logfile",
            "/dev/null",
            # Each tree's application with the bench's floor views routed (bench/wsgi.py):
            # bench/run.py's scenarios check them.
            "bench.wsgi:application",
        ],
        env={**run.ENV, "PYTHONPATH": str(tree)},
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            if run.get("/healthz")[0] == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"gunicorn did not start from {tree}")


def main():
    trees = sys.argv[1:]
    manifest = json.loads((run.OUT / "manifest.json").read_text())
    results = {tree: {} for tree in trees}
    for round_ in range(ROUNDS):
        for tree in trees if round_ % 2 == 0 else list(reversed(trees)):
            server = serve(tree)
            try:
                # Cookies and tokens made against this tree's server (bench/run.py's scenarios:
                # each page with its floor; the floors are the bench's, not the tree's product).
                pages = [
                    s
                    for group in run.scenarios(manifest)
                    for s in group
                    if not s["name"].startswith("floor:")
                ]
                for s in pages:
                    ping = run.wrk("get.lua", "/healthz")["rps"]
                    page = run.wrk(s["script"], s["path"], s["extra"])
                    if not ping:  # a stalled machine: this run says nothing
                        print(f"  ping served nothing before {s['name']}: run not counted")
                        continue
                    results[tree].setdefault(s["name"], []).append((page, ping))
                    print(
                        f"  round {round_ + 1}/{ROUNDS} {Path(tree).name:<10} {s['name']:<48} "
                        f"{page['rps']:>7,.0f} req/s ({page['rps'] / ping:.3f}× ping {ping:,.0f})",
                        flush=True,
                    )
            finally:
                run.stop(server)
    print(f"{ROUNDS} rounds; medians; ratio to the ping run just before each page")
    print("| path | " + " | ".join(trees) + " |")
    print("|---" * (len(trees) + 1) + "|")
    for name in results[trees[0]]:
        cells = []
        for tree in trees:
            runs = results[tree].get(name)
            if not runs:
                cells.append("no run counted")
                continue
            rps = run.median([page["rps"] for page, _ in runs])
            ratio = run.median([page["rps"] / ping for page, ping in runs])
            p99 = run.median([page["p99_ms"] for page, _ in runs])
            cells.append(f"{rps:,.0f} req/s ({ratio:.3f}×, p99 {p99:.0f} ms)")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
