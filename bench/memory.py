"""A rendering process's memory (issue 22): one task worker process producing the after-commit
documents of real conclusions — the お客様控え and 保証料計算書 of each certificate, rendered,
signed with the eシール (TSA round trip included) and stored, exactly as in production —
with its VmRSS, VmHWM and PSS printed after 1, 10, 100, 400, 1,000 PDFs.

    .venv/bin/python bench/memory.py [--conclusions 250] [--pdfs 1,10,100,400,1000]
        [--reuse] [--env NAME=VALUE …] [--command worker|db_worker] [--label text] [--s3]

1. Once (skipped with --reuse when it exists): a database BENCH_ISSUANCE_DB_tpl
   (BENCH_ISSUANCE_DB must start with esure_bench_issuance) with `--conclusions`
   two-guarantee conclusions made through the real service (bench/issuance.py's world),
   no worker running: each left one produce_documents task per certificate (2 PDFs) and
   its mail in the queue.
2. Each run: a fresh copy of it (CREATE DATABASE … TEMPLATE), then a child process that does
   what `manage.py worker` does (docker-compose.yml's worker, with the ESURE_TASK_WORKER that
   manage.py sets for it; `--command db_worker`: django-tasks-db's own command) —
   django.setup(), the command's system checks (which load
   the eシール), django-tasks-db's Worker loop — one task at a time, and prints its memory
   (/proc/self/status, /proc/self/smaps_rollup) and CPU time whenever the PDFs it has stored
   pass a checkpoint. `--env` sets variables for the child only (e.g. MALLOC_ARENA_MAX=2),
   to measure a setting without changing the code. `--s3`: the PDFs are stored as in
   production (docker-compose.yml), in a bucket of a real SeaweedFS started for the run, through
   django-storages and boto3 in the child; by default they go to the local disk.

The test PKI (a real RFC 3161 TSA, tests/pki) runs in this parent process, not in the child
measured. Prints a table and writes var/bench/memory-latest.json. Not part of `make bench`.
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import issuance  # noqa: E402 — bench/issuance.py: the world, the conclusions, the PKI
import run  # noqa: E402 — bench/run.py: environment and psql helper

BASE = os.environ.get("BENCH_ISSUANCE_DB", "esure_bench_issuance")
TEMPLATE = f"{BASE}_tpl"
COPY = f"{BASE}_run"
MEDIA = run.OUT / "media-memory"


def url(db):
    return f"postgres://postgres@127.0.0.1:5432/{db}"


def exists(db):
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
         f"SELECT 1 FROM pg_database WHERE datname = '{db}'"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip() == "1"


def prepare(conclusions):
    """The template database: the world and `conclusions` conclusions, their tasks queued."""
    run.psql(f"DROP DATABASE IF EXISTS {TEMPLATE}")
    run.psql(f"CREATE DATABASE {TEMPLATE}")
    issuance.ENV.update(DATABASE_URL=url(TEMPLATE), MEDIA_ROOT=str(MEDIA))
    subprocess.run(
        [run.PY, "manage.py", "migrate", "--noinput", "-v", "0"],
        check=True, env=issuance.ENV, cwd=ROOT,
    )  # fmt: skip
    # The conclusions run in a child (this process keeps no connection to the template).
    subprocess.run([run.PY, __file__, "--prepare-child", str(conclusions)], check=True,
                   env=issuance.ENV, cwd=ROOT)  # fmt: skip


def prepare_child(conclusions):
    import django

    django.setup()  # with the environment the parent gave (the template, the seal)
    issuance.make_world()
    pks = issuance.approved_applications(conclusions, "M")
    for i, pk in enumerate(pks, 1):
        issuance.conclude(pk)
        if i % 50 == 0 or i == len(pks):
            print(f"  {i}/{len(pks)} conclusions", flush=True)


def memory():
    """VmRSS, VmHWM, RssAnon, RssFile and PSS of this process, MB."""
    status = {
        line.split(":")[0]: int(line.split()[1]) / 1024
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:", "RssFile:"))
    }
    rollup = {
        line.split(":")[0]: int(line.split()[1]) / 1024
        for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]
        if line.split(":")[0] in ("Pss", "Pss_Anon")
    }
    return {
        "rss": round(status["VmRSS"], 1),
        "hwm": round(status["VmHWM"], 1),
        "anon": round(status["RssAnon"], 1),
        "file": round(status["RssFile"], 1),
        "pss": round(rollup["Pss"], 1),
    }


def worker_child(checkpoints, command):
    """What `manage.py <command>` does, one task at a time, printing a JSON line of memory
    and CPU at start-up, after the system checks and whenever a checkpoint of PDFs passes."""
    started = time.process_time()

    def report(stage, pdfs, tasks):
        line = {"stage": stage, "pdfs": pdfs, "tasks": tasks, **memory()}
        line["cpu_s"] = round(time.process_time() - started, 2)
        print(json.dumps(line), flush=True)

    import django

    django.setup()
    report("django.setup()", 0, 0)
    from esure.management.commands import worker as worker_command

    # What the command's execute() wraps around its checks and loop (no lxml: decision 0049).
    with worker_command.without_lxml() if command == "worker" else contextlib.nullcontext():
        run_tasks(checkpoints, command, report)


def run_tasks(checkpoints, command, report):
    from django.core.management import get_commands, load_command_class

    # The command's start-up system checks (the eシール's among them).
    load_command_class(get_commands()[command], command).check()
    report("system checks", 0, 0)

    from django_tasks_db.management.commands.db_worker import Worker

    from certificates.models import Document
    from certificates.services import AFTER_COMMIT_KINDS

    def stored():
        return Document.objects.filter(kind__in=AFTER_COMMIT_KINDS).count()

    tasks, pdfs = 0, 0
    pending = sorted(checkpoints)
    while pending:
        worker = Worker(
            queue_names=["*"], interval=0, batch=True, backend_name="default",
            startup_delay=False, max_tasks=1, worker_id="bench-memory",
            excluded_queue_names=[],
        )  # fmt: skip
        before = worker._run_tasks
        worker.run()
        if worker._run_tasks == before:
            break  # the queue is empty
        tasks += 1
        pdfs = stored()
        while pending and pdfs >= pending[0]:
            pending.pop(0)
            report("after", pdfs, tasks)
    if pending:
        report("queue empty", pdfs, tasks)


@contextlib.contextmanager
def object_store(enabled):
    """With --s3, the variables of production's storage (docker-compose.yml): a bucket of a
    real SeaweedFS (tests/seaweedfs.py, its own process) that the child stores the PDFs in
    through django-storages and boto3; without, nothing (the PDFs go to MEDIA_ROOT)."""
    if not enabled:
        yield {}
        return
    sys.path.insert(0, str(ROOT))
    from tests.seaweedfs import SeaweedFS

    store = SeaweedFS(run.OUT / "seaweedfs-memory").start()
    try:
        store.create_bucket("esure-memory")
        yield {
            **store.environ,
            "ESURE_S3_BUCKET": "esure-memory",
            "ESURE_S3_ENDPOINT_URL": store.endpoint_url,
        }
    finally:
        store.stop()


def run_once(checkpoints, extra_env, label, command, storage_env=None):
    run.psql(f"DROP DATABASE IF EXISTS {COPY}")
    run.psql(f"CREATE DATABASE {COPY} TEMPLATE {TEMPLATE}")
    env = {**issuance.ENV, "DATABASE_URL": url(COPY), "MEDIA_ROOT": str(MEDIA)}
    env.update(storage_env or {})
    if command == "worker":
        env["ESURE_TASK_WORKER"] = "true"  # as manage.py sets it for `worker` (decision 0050)
    env.update(extra_env)
    log = (run.OUT / "memory-worker.log").open("w")  # the worker's own log lines
    child = subprocess.Popen(
        [run.PY, __file__, "--worker-child", ",".join(map(str, checkpoints)), command],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
    )  # fmt: skip
    lines = []
    settings = " ".join(f"{k}={v}" for k, v in extra_env.items())
    where = "S3 (SeaweedFS)" if storage_env else "local disk"
    print(f"memory [{label}] manage.py {command} {settings}, PDFs on {where}", flush=True)
    print(f"  {'stage':<16} {'PDFs':>5} {'tasks':>5} {'VmRSS':>7} {'VmHWM':>7} {'anon':>7} "
          f"{'file':>6} {'PSS':>7} {'CPU s':>7}", flush=True)  # fmt: skip
    for raw in child.stdout:
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        lines.append(line)
        print(f"  {line['stage']:<16} {line['pdfs']:>5} {line['tasks']:>5} {line['rss']:>7.1f} "
              f"{line['hwm']:>7.1f} {line['anon']:>7.1f} {line['file']:>6.1f} "
              f"{line['pss']:>7.1f} {line['cpu_s']:>7.2f}", flush=True)  # fmt: skip
    if child.wait():
        raise SystemExit(f"the worker child failed ({child.returncode})")
    run.psql(f"DROP DATABASE IF EXISTS {COPY}")
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--conclusions", type=int, default=250)
    parser.add_argument("--pdfs", default="1,10,100,400,1000")
    parser.add_argument("--reuse", action="store_true", help="keep the template database")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the child")
    parser.add_argument("--command", default="worker", help="worker (production) or db_worker")
    parser.add_argument("--label", default="")
    parser.add_argument("--s3", action="store_true", help="store on S3 (SeaweedFS), as production")
    parser.add_argument("--prepare-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare_child:
        return prepare_child(args.prepare_child)
    if args.worker_child:
        pdfs, command = args.worker_child
        return worker_child([int(n) for n in pdfs.split(",")], command)
    if not BASE.startswith("esure_bench_issuance"):
        raise SystemExit(f"BENCH_ISSUANCE_DB must start with esure_bench_issuance, not {BASE!r}")

    checkpoints = [int(n) for n in args.pdfs.split(",")]
    extra_env = dict(item.split("=", 1) for item in args.env)
    run.OUT.mkdir(parents=True, exist_ok=True)
    issuance.start_pki()  # the seal and the TSA, in this process, for both children
    if not (args.reuse and exists(TEMPLATE)):
        print(f"memory: {args.conclusions} conclusions into {TEMPLATE} …", flush=True)
        prepare(args.conclusions)
    with object_store(args.s3) as storage_env:
        lines = run_once(checkpoints, extra_env, args.label, args.command, storage_env)
    result = {
        "when": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        "label": args.label,
        "env": extra_env,
        "command": args.command,
        "storage": "s3" if args.s3 else "disk",
        "lines": lines,
        "loadavg_after": os.getloadavg(),
    }
    (run.OUT / "memory-latest.json").write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
