"""Gunicorn's worker count and class, A/B in one run (issue 22): the same pages against one
gunicorn per configuration, all serving the bench database at once on their own ports, the
configurations taking turns round after round so that a change in the machine's load falls on
all of them alike. An idle server costs nothing while another is measured.

    .venv/bin/python bench/gunicorn_ab.py          (after `make bench`, which loads the data)

Environment: BENCH_AB_CONFIGS (default "sync:2,sync:3,sync:4,gthread:2x4": class:workers, and
xTHREADS for gthread), BENCH_ROUNDS (3), BENCH_DURATION, BENCH_CONNECTIONS, BENCH_PORT (the
first configuration's port; the others take the next ones), BENCH_DB — as bench/run.py.

Per configuration it reports each page's median req/s, p50 and p99 and its ratio to that
configuration's own ping, the ping itself, and the workers' memory afterwards. The figures
that choose a configuration are the pages' req/s and p99 against each other in the same run;
the ratio to ping says how much of the server each page leaves unused.
Writes var/bench/gunicorn-ab-<UTC>.json.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # bench/run.py, this script's sibling

PAGES = ["lookup POST right key", "viewer GET", "stored PDF", "contractor list /certificates/"]


def configs():
    text = os.environ.get("BENCH_AB_CONFIGS", "sync:2,sync:3,sync:4,gthread:2x4")
    out = []
    for item in text.split(","):
        kind, _, size = item.strip().partition(":")
        workers, _, threads = size.partition("x")
        args = ["--workers", workers, "--worker-class", kind]
        if threads:
            args += ["--threads", threads]
        out.append({"name": item.strip(), "args": args})
    return out


def main():
    manifest = json.loads((run.OUT / "manifest.json").read_text())
    chosen = configs()
    servers = []
    try:
        for i, config in enumerate(chosen):
            port = run.PORT + 10 + i
            config["base"] = f"http://127.0.0.1:{port}"
            servers.append(
                run.start_gunicorn(port, name=f"gunicorn-ab-{i}", worker_args=config["args"])
            )
        # The scenarios' cookies and tokens are the database's and SECRET_KEY's, valid on every
        # server; bench/run.py builds them against its own port, so serve that one too.
        servers.append(run.start_gunicorn(run.PORT, name="gunicorn-ab-setup"))
        scenarios = {
            s["name"]: s
            for group in run.scenarios(manifest)
            for s in group
            if any(s["name"].startswith(page) for page in PAGES)
        }
        run.stop(servers.pop())
        for config in chosen:
            for _ in range(3 * len(config["args"])):
                run.get("/healthz", base=config["base"])
        results = {c["name"]: {"ping": [], **{n: [] for n in scenarios}} for c in chosen}
        for round_ in range(run.ROUNDS):
            order = chosen[round_ % len(chosen) :] + chosen[: round_ % len(chosen)]
            for config in order:
                base, out = config["base"], results[config["name"]]
                before = run.wrk("get.lua", "/healthz", base=base)
                for name, s in scenarios.items():
                    out[name].append(run.wrk(s["script"], s["path"], s["extra"], base=base))
                after = run.wrk("get.lua", "/healthz", base=base)
                ping = (before["rps"] + after["rps"]) / 2
                out["ping"].append({**after, "rps": ping})
                for name in scenarios:
                    out[name][-1]["ratio"] = out[name][-1]["rps"] / ping
                print(
                    f"  round {round_ + 1}/{run.ROUNDS} {config['name']:<12} ping {ping:>7,.0f}  "
                    + "  ".join(f"{n.split()[0]} {out[n][-1]['rps']:,.0f}" for n in scenarios),
                    f" load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        memory = {
            c["name"]: [run.memory(pid) for pid in run.workers_of(server.pid)]
            for c, server in zip(chosen, servers, strict=True)
        }
    finally:
        for server in servers:
            run.stop(server)
    print("| configuration | page | req/s | p50 | p99 | ratio to its ping |")
    print("|---|---|---|---|---|---|")
    table = []
    for config in chosen:
        out = results[config["name"]]
        for name, runs in out.items():
            row = {
                "config": config["name"],
                "page": name,
                "rps": run.median([r["rps"] for r in runs]),
                "p50_ms": run.median([r["p50_ms"] for r in runs]),
                "p99_ms": run.median([r["p99_ms"] for r in runs]),
                "ratio": run.median([r.get("ratio", 1.0) for r in runs]),
                "bad": sum(r["bad_status"] + r["errors"] for r in runs),
            }
            table.append(row)
            print(
                f"| {row['config']} | {name} | {row['rps']:,.0f} | {row['p50_ms']:.1f} ms | "
                f"{row['p99_ms']:.1f} ms | {row['ratio']:.3f} |"
            )
    print("workers' memory:", json.dumps(memory))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = run.OUT / f"gunicorn-ab-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "when": stamp,
                "rounds": run.ROUNDS,
                "duration_s": run.DURATION,
                "connections": run.CONNECTIONS,
                "configs": [{k: c[k] for k in ("name", "args")} for c in chosen],
                "runs": results,
                "table": table,
                "memory": memory,
                "cpus": os.cpu_count(),
                "loadavg_after": os.getloadavg(),
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"written: {path}")


if __name__ == "__main__":
    main()
