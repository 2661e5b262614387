"""Before/after on the same machine and data: two source trees (e.g. a `git worktree` of an
older commit and this one) each served by gunicorn in turn — the same settings for both, 2
workers, `--max-requests 100000` — and every scenario run with wrk, each preceded by a ping,
in alternating rounds.

    git worktree add /tmp/before <commit> && ln -s "$PWD/.venv" /tmp/before/.venv
    BENCH_DURATION=5 .venv/bin/python bench/compare.py /tmp/before "$PWD"

Uses the loaded bench database and var/bench/ of this tree (run `make bench` first). Prints
req/s and ratio to ping per scenario and tree.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # bench/run.py: environment, wrk and HTTP helpers

ROUNDS = 2


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
            "esure.wsgi:application",
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
    for _ in range(ROUNDS):
        for tree in trees:
            server = serve(tree)
            try:
                for name, script, path, extra in run.scenarios(manifest):
                    ping = run.wrk("get.lua", "/healthz")["rps"]
                    rps = run.wrk(script, path, extra)["rps"]
                    results[tree].setdefault(name, []).append((rps, ping))
            finally:
                server.terminate()
                server.wait(timeout=30)
    print("| path | " + " | ".join(trees) + " |")
    print("|---" * (len(trees) + 1) + "|")
    for name in results[trees[0]]:
        cells = []
        for tree in trees:
            runs = results[tree][name]
            rps = sum(r for r, _ in runs) / len(runs)
            ratio = sum(r / p for r, p in runs) / len(runs)
            cells.append(f"{rps:,.0f} req/s ({ratio:.3f}×)")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
