"""The bench: a fresh esure_bench database, bench data (bench/generate.py), gunicorn as in
production (ops/gunicorn.conf.py, 2 workers) on 127.0.0.1, and wrk with Lua scripts.

    BENCH_SCALE=0.1 .venv/bin/python bench/run.py      (or: make bench BENCH_SCALE=0.1)

Environment: BENCH_SCALE (1 = 1,000,000 guarantees), BENCH_DURATION (seconds per scenario,
default 10), BENCH_CONNECTIONS (16), BENCH_PORT (8765), BENCH_DB (esure_bench; must start
with "esure_bench"), BENCH_REUSE=1 keeps the loaded database and skips the load.
Prints one table and writes var/bench/result-<UTC time>.json (+ result-latest.json).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"
LUA = Path(__file__).resolve().parent / "lua"
PY = sys.executable

DB = os.environ.get("BENCH_DB", "esure_bench")
PORT = int(os.environ.get("BENCH_PORT", "8765"))
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
BASE = f"http://127.0.0.1:{PORT}"

ENV = {
    **os.environ,
    "ESURE_ENV_FILE": "",
    "DEBUG": "false",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
    "ESURE_AUTH_KEY_SECRET": "bench-only-auth-key-secret-0123456789",
    "ALLOWED_HOSTS": "127.0.0.1",
    "ESURE_HTTPS": "false",
    "MEDIA_ROOT": str(OUT / "media"),
    "STATIC_ROOT": str(OUT / "static"),
    "EMAIL_URL": "consolemail://",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "esure.settings",
    "WEB_CONCURRENCY": "2",
}


def sh(*args, **kwargs):
    return subprocess.run(args, check=True, env=ENV, cwd=ROOT, **kwargs)


def psql(sql, db="postgres"):
    return sh(
        "psql",
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-d",
        db,
        "-qAtc",
        sql,
        capture_output=True,
        text=True,
    ).stdout


def env_for(db, media):
    return {
        **ENV,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "MEDIA_ROOT": str(media),
    }


# The second data set, for "lookup at 1,000,000 vs at 10,000" in the same run.
SMALL_DB = f"{DB}_small"
SMALL_SCALE = "0.01"
SMALL_MEDIA = OUT / "media-small"
SMALL_MANIFEST = OUT / "manifest-small.json"
SMALL_ENV = {**env_for(SMALL_DB, SMALL_MEDIA), "BENCH_SCALE": SMALL_SCALE}


def prepare_database(db=DB, env=None, media=OUT / "media", manifest=OUT / "manifest.json"):
    env = env or ENV
    if not db.startswith("esure_bench"):
        raise SystemExit(f"BENCH_DB must start with esure_bench, not {db!r}")
    psql(f"DROP DATABASE IF EXISTS {db}")
    psql(f"CREATE DATABASE {db}")
    t0 = time.monotonic()
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"], check=True, env=env, cwd=ROOT
    )
    subprocess.run([PY, "manage.py", "createcachetable"], check=True, env=env, cwd=ROOT)
    sh(PY, "manage.py", "collectstatic", "--noinput", "-v", "0")
    print(f"migrated {db} in {time.monotonic() - t0:.1f} s")
    shutil.rmtree(media, ignore_errors=True)
    subprocess.run(
        [PY, "bench/generate.py", "--manifest", str(manifest)], check=True, env=env, cwd=ROOT
    )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _cookies(response):
    jar = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def csrf(base=BASE):
    """A CSRF cookie and form token, fetched from D-Sure's entry page like a browser."""
    with urllib.request.urlopen(f"{base}/dsure/", timeout=10) as response:
        cookie = _cookies(response)["csrftoken"]
        html = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return cookie, token


def lookup(number, key, cookie, token):
    """POST number + key; returns (status, Location, cookies)."""
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "number": number, "key": key}
    ).encode()
    request = urllib.request.Request(
        f"{BASE}/dsure/", data=body, headers={"Cookie": f"csrftoken={cookie}"}
    )
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, "", _cookies(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), _cookies(error)


def get(path, cookie="", base=BASE):
    request = urllib.request.Request(f"{base}{path}", headers={"Cookie": cookie})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def start_gunicorn(port=PORT, env=None, name="gunicorn"):
    log = open(OUT / f"{name}.log", "w")  # noqa: SIM115 — open for the server's lifetime
    process = subprocess.Popen(
        [
            str(Path(PY).parent / "gunicorn"),
            "--config",
            "ops/gunicorn.conf.py",
            "--no-control-socket",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(OUT / f"{name}-access.log"),
            "esure.wsgi:application",
        ],
        env=env or ENV,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        try:
            if get("/healthz", base=f"http://127.0.0.1:{port}")[0] == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {OUT / f'{name}.log'}")
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer /healthz")


def workers_of(master_pid):
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", text, re.M):
            pids.append(int(status.parent.name))
    return pids


def memory(pid):
    text = Path(f"/proc/{pid}/status").read_text()
    get_kb = lambda name: int(re.search(rf"^{name}:\s+(\d+) kB", text, re.M).group(1))  # noqa: E731
    return {
        "pid": pid,
        "VmHWM_MB": round(get_kb("VmHWM") / 1024, 1),
        "VmRSS_MB": round(get_kb("VmRSS") / 1024, 1),
    }


def wrk(script, path, env_extra=None, base=BASE):
    """One bounded wrk run; the Lua done() prints a JSON line."""
    env = {**os.environ, **(env_extra or {})}
    result = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(CONNECTIONS),
            "-d",
            f"{DURATION}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA / script),
            f"{base}{path}",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=LUA,
        timeout=DURATION + 60,
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{result.stdout}\n{result.stderr}")
    return json.loads(line.removeprefix("BENCHJSON "))


def scenarios(manifest):
    cookie, token = csrf()
    # Data files for the Lua scripts: one pair / number per line.
    (OUT / "right.txt").write_text("".join(f"{n} {k}\n" for n, k in manifest["right"][1:]))
    (OUT / "wrong.txt").write_text("".join(f"{n} ZZZZZZZZZZZZZZZZ\n" for n in manifest["wrong"]))
    # Sanity: a right key redirects to the viewer, a wrong one answers 200 with the message.
    status, location, jar = lookup(manifest["viewer_number"], manifest["viewer_key"], cookie, token)
    assert status == 302 and location.endswith(f"/dsure/{manifest['viewer_number']}/"), (
        status,
        location,
    )
    viewer_cookie = f"sessionid={jar['sessionid']}; csrftoken={cookie}"
    number = manifest["viewer_number"]
    list_cookie = f"sessionid={manifest['list_session_key']}"
    checks = {
        f"/dsure/{number}/": viewer_cookie,
        f"/dsure/{number}/v1.pdf": viewer_cookie,
        "/certificates/": list_cookie,
        "/applications/": list_cookie,
    }
    for path, c in checks.items():
        status, _ = get(path, c)
        assert status == 200, (path, status)
    bearer = f"Bearer {manifest['api_token']}"
    api_path = f"/api/v1/guarantees/{number}"
    request = urllib.request.Request(f"{BASE}{api_path}", headers={"Authorization": bearer})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, (api_path, response.status)
    common = {"BENCH_CSRF_COOKIE": cookie, "BENCH_CSRF_TOKEN": token}
    return [
        (
            "lookup POST right key",
            "post_lookup.lua",
            "/dsure/",
            {**common, "BENCH_DATA": str(OUT / "right.txt")},
        ),
        (
            "lookup POST wrong key",
            "post_lookup.lua",
            "/dsure/",
            {**common, "BENCH_DATA": str(OUT / "wrong.txt")},
        ),
        ("viewer GET", "get.lua", f"/dsure/{number}/", {"BENCH_COOKIE": viewer_cookie}),
        ("stored PDF", "get.lua", f"/dsure/{number}/v1.pdf", {"BENCH_COOKIE": viewer_cookie}),
        (
            "API POST /api/v1/verify right key",
            "post_verify.lua",
            "/api/v1/verify",
            {"BENCH_TOKEN": manifest["api_token"], "BENCH_DATA": str(OUT / "right.txt")},
        ),
        (
            "API GET /api/v1/guarantees/{number}",
            "get.lua",
            api_path,
            {"BENCH_AUTHORIZATION": bearer},
        ),
        (
            "contractor list /certificates/ (page 1 of 500)",
            "get.lua",
            "/certificates/",
            {"BENCH_COOKIE": list_cookie},
        ),
        (
            "menu 4 /applications/ (page 1 of 200)",
            "get.lua",
            "/applications/",
            {"BENCH_COOKIE": list_cookie},
        ),
    ]


def stored_pdf_from_object_store(manifest, viewer_cookie):
    """The same stored PDF served by a second gunicorn whose storage is a bucket in a real
    SeaweedFS (tests/seaweedfs.py) holding a copy of the bench's documents
    (`manage.py copy_storage`), with a ping before and after on that server: (ping, pdf)."""
    sys.path.insert(0, str(ROOT))
    from tests.seaweedfs import SeaweedFS

    store = SeaweedFS(OUT / "seaweedfs").start()
    server = None
    try:
        store.create_bucket("esure-bench")
        env = {
            **ENV,
            **store.environ,
            "ESURE_S3_BUCKET": "esure-bench",
            "ESURE_S3_ENDPOINT_URL": store.endpoint_url,
        }
        subprocess.run(
            [PY, "manage.py", "copy_storage", "--from", str(OUT / "media")],
            check=True,
            env=env,
            cwd=ROOT,
        )
        port = PORT + 2
        base = f"http://127.0.0.1:{port}"
        server = start_gunicorn(port, env, name="gunicorn-s3")
        number = manifest["viewer_number"]
        status, _ = get(f"/dsure/{number}/v1.pdf", viewer_cookie, base=base)
        assert status == 200, status
        pings = [wrk("get.lua", "/healthz", base=base)]
        pdf = wrk("get.lua", f"/dsure/{number}/v1.pdf", {"BENCH_COOKIE": viewer_cookie}, base=base)
        pings.append(wrk("get.lua", "/healthz", base=base))
        return pings, pdf
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        store.stop()


def lookup_by_volume(manifest):
    """The right-key lookup against the full data set and against 10,000 guarantees, each
    as a ratio to a ping of its own server run just before it, alternating twice; the
    answer is (mean ratio at full volume) / (mean ratio at 10,000)."""
    small_port = PORT + 1
    small_base = f"http://127.0.0.1:{small_port}"
    small = json.loads(SMALL_MANIFEST.read_text())
    (OUT / "right-small.txt").write_text("".join(f"{n} {k}\n" for n, k in small["right"][1:]))
    server = start_gunicorn(small_port, SMALL_ENV, name="gunicorn-small")
    runs = {manifest["counts"]["guarantees"]: [], small["counts"]["guarantees"]: []}
    try:
        for _ in range(3):
            get("/healthz", base=small_base)
        sets = [
            (manifest["counts"]["guarantees"], BASE, OUT / "right.txt"),
            (small["counts"]["guarantees"], small_base, OUT / "right-small.txt"),
        ]
        for _ in range(2):
            for count, base, data in sets:
                cookie, token = csrf(base)
                extra = {"BENCH_CSRF_COOKIE": cookie, "BENCH_CSRF_TOKEN": token}
                ping = wrk("get.lua", "/healthz", base=base)
                lookup = wrk("post_lookup.lua", "/dsure/", {**extra, "BENCH_DATA": str(data)}, base)
                runs[count].append(
                    {
                        "ping_rps": ping["rps"],
                        "lookup_rps": lookup["rps"],
                        "p99_ms": lookup["p99_ms"],
                    }
                )
                print(
                    f"  lookup at {count:>9,} guarantees {lookup['rps']:>8,.0f} req/s "
                    f"(ping {ping['rps']:,.0f}: {lookup['rps'] / ping['rps']:.2f}×)",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
    ratios = {
        count: sum(r["lookup_rps"] / r["ping_rps"] for r in rs) / len(rs)
        for count, rs in runs.items()
    }
    big, little = manifest["counts"]["guarantees"], small["counts"]["guarantees"]
    result = {
        "runs": {str(k): v for k, v in runs.items()},
        "ratio_to_ping": {str(k): round(v, 3) for k, v in ratios.items()},
        "full_over_small": round(ratios[big] / ratios[little], 3),
    }
    print(
        f"  lookup at {big:,} / at {little:,} (each against its ping): "
        f"{result['full_over_small']:.2f}",
        flush=True,
    )
    return result


def run_issuance():
    """bench/issuance.py in its own process and database; its JSON result."""
    n = os.environ.get("BENCH_ISSUANCE_N") or (
        "200" if float(os.environ.get("BENCH_SCALE", "1")) >= 1 else "20"
    )
    subprocess.run([PY, "bench/issuance.py", "--n", n], check=True, env=ENV, cwd=ROOT)
    return json.loads((OUT / "issuance-latest.json").read_text())


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    if os.environ.get("BENCH_REUSE") != "1":
        prepare_database()
        prepare_database(SMALL_DB, SMALL_ENV, SMALL_MEDIA, SMALL_MANIFEST)
    manifest = json.loads((OUT / "manifest.json").read_text())
    server = start_gunicorn()
    rows, pings = [], []
    try:
        for _ in range(3):  # warm both workers (and their connections) before measuring
            get("/healthz")
        plan = scenarios(manifest)
        for name, script, path, extra in plan:
            ping = wrk("get.lua", "/healthz")
            pings.append(ping)
            print(f"  ping /healthz         {ping['rps']:>8,.0f} req/s", flush=True)
            result = wrk(script, path, extra)
            result["path"] = name
            rows.append(result)
            print(
                f"  {name:<36} {result['rps']:>8,.0f} req/s  non-2xx/3xx {result['bad_status']}",
                flush=True,
            )
        ping = wrk("get.lua", "/healthz")
        pings.append(ping)
        workers = [memory(pid) for pid in workers_of(server.pid)]
        viewer = next(extra for name, _, _, extra in plan if name == "stored PDF")
        s3_pings, s3_pdf = stored_pdf_from_object_store(manifest, viewer["BENCH_COOKIE"])
        by_volume = lookup_by_volume(manifest)
    finally:
        server.terminate()
        server.wait(timeout=30)
    issuance = run_issuance()
    ping_rps = sum(p["rps"] for p in pings) / len(pings)
    ping_row = {
        "path": "ping /healthz (mean of interleaved runs)",
        "rps": ping_rps,
        "p50_ms": sorted(p["p50_ms"] for p in pings)[len(pings) // 2],
        "p99_ms": sorted(p["p99_ms"] for p in pings)[len(pings) // 2],
        "bad_status": sum(p["bad_status"] for p in pings),
        "errors": sum(p["errors"] for p in pings),
    }
    table = [ping_row, *rows]
    for row in table:
        row["ratio"] = round(row["rps"] / ping_rps, 3)
    # The object store's row: its ratio is to the ping of its own server, in the same run.
    s3_ping = sum(p["rps"] for p in s3_pings) / len(s3_pings)
    s3_pdf["path"] = f"stored PDF from SeaweedFS (ping there {s3_ping:,.0f} req/s)"
    s3_pdf["ratio"] = round(s3_pdf["rps"] / s3_ping, 3)
    table.append(s3_pdf)
    disk_pdf = next(row for row in rows if row["path"] == "stored PDF")
    lines = ["| path | req/s | p50 | p99 | ratio to ping |", "|---|---|---|---|---|"]
    lines += [
        f"| {r['path']} | {r['rps']:,.0f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | "
        f"{r['ratio']:.2f} |"
        for r in table
    ]
    print("\n".join(lines))
    print("gunicorn workers:", workers)
    print(
        f"stored PDF: disk {disk_pdf['ratio']:.3f}× ping, SeaweedFS {s3_pdf['ratio']:.3f}× ping "
        f"→ object store / disk {s3_pdf['ratio'] / disk_pdf['ratio']:.2f}"
    )
    print(
        f"lookup at full volume / at 10,000 guarantees: {by_volume['full_over_small']:.2f} "
        f"(ratios to ping {by_volume['ratio_to_ping']})"
    )
    print(
        f"issuance: {issuance['sequential']['mean_s']:.3f} s per conclusion of a 2-guarantee "
        f"application (6 PDFs) over {issuance['sequential']['n']}; bare WeasyPrint "
        f"{issuance['bare_weasyprint']['mean_s']:.3f} s → {issuance['ratio_to_bare']:.2f}×; "
        f"{issuance['parallel']['processes']} processes: 1,000 conclusions in "
        f"~{issuance['parallel']['projected_1000_s']:.0f} s; signing "
        f"{issuance['signing']['sign_ms_per_pdf']} ms per PDF = "
        f"{issuance['signing']['ratio_to_render']:.2f}× its rendering"
    )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    result = {
        "when": stamp,
        "scale": manifest["scale"],
        "counts": manifest["counts"],
        "load_seconds": manifest["load_seconds"],
        "load_rows_per_second": manifest["rows_per_second"],
        "duration_s": DURATION,
        "connections": CONNECTIONS,
        "gunicorn_workers": 2,
        "ping_runs": pings,
        "table": table,
        "workers_memory": workers,
        "lookup_by_volume": by_volume,
        "stored_pdf_object_store": {
            "pings": s3_pings,
            "pdf": s3_pdf,
            "disk_ratio": disk_pdf["ratio"],
            "object_store_ratio": s3_pdf["ratio"],
        },
        "issuance": issuance,
        "cpus": os.cpu_count(),
        "loadavg_after": os.getloadavg(),
    }
    text = json.dumps(result, ensure_ascii=False, indent=1)
    (OUT / f"result-{stamp}.json").write_text(text)
    (OUT / "result-latest.json").write_text(text)
    print(f"written: {OUT / f'result-{stamp}.json'}")
    # Every query of each page, with EXPLAIN ANALYZE, from the same database.
    sh(PY, "bench/explain.py")


if __name__ == "__main__":
    main()
