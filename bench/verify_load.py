"""Public verification under load: gunicorn (production settings) with the bench certificates in PostgreSQL.

As many certificates as bench/seed.py put there (1 000 000 by default; the count is read from the data and named in
the results), so the same benchmark over a larger seed says how the cost grows with the table.

Measures requests/s and p50/p99 latency at 32 connections with wrk for /api/verify/<code>/ and /verify/<code>/
(random existing codes) beside a minimal Django view served by the same gunicorn, interleaved, median of 3 runs.
Targets (docs/architecture.md#benchmarks-and-the-load-test): API >= 60 % of the minimal view's requests/s, p99 < 50 ms;
page >= 40 %, p99 < 100 ms.
Loopback only; bounded in time.

With REDIS_URL set, verifications are buffered in Redis: a Celery worker with beat runs beside gunicorn (on the same
cores) so the drain into PostgreSQL is part of the measured cost, and at the end every answered verification must
be in VerificationLog (checked, and reported as "logged").
"""

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PORT = int(os.environ.get("BENCH_PORT", "8931"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "3"))
GUNICORN_CONFIG = ROOT / "gunicorn.conf.py"


def wrk(path_prefix=None, url_path=None):
    env = dict(os.environ)
    cmd = ["wrk", "-t2", "-c32", f"-d{DURATION}", "--latency", "--timeout", "5s"]
    if path_prefix:
        env["CODES_FILE"] = str(RESULTS / "verify_codes.txt")
        env["URL_PREFIX"] = path_prefix
        cmd += ["-s", str(ROOT / "bench" / "wrk_codes.lua"), f"http://127.0.0.1:{PORT}"]
    else:
        cmd.append(f"http://127.0.0.1:{PORT}{url_path}")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=True).stdout  # noqa: S603
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct in ("50", "99"):
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        lat[pct] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50_ms": lat["50"],
        "p99_ms": lat["99"],
        "non_2xx": int(errors.group(1)) if errors else 0,
        "requests": requests,
    }


def bench_certificates():
    from bench.seed import BENCH_KIND
    from portal.verify.models import IssuedDocument

    return IssuedDocument.objects.filter(kind=BENCH_KIND).count()


def logged_verifications():
    from portal.verify.models import VerificationLog

    return VerificationLog.objects.count()


def final_drain():
    """Store what the buffer still holds after the run (the worker is stopped by then)."""
    from portal.verify.logbuffer import verification_log_backlog, verification_log_drain

    while verification_log_backlog():
        verification_log_drain(time_budget=60.0)


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DEBUG", "CONN_MAX_AGE", "LOG_LEVEL")})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    final_drain()  # whatever an earlier run left behind
    logged_before = logged_verifications()
    certificates = bench_certificates()
    if not certificates:
        sys.exit("no bench certificates: run bench/seed.py certificates --ensure first")
    worker = None
    if os.environ.get("REDIS_URL"):
        # Beat runs only the drain of the verification buffer (bench/settings.py): no sweep over the case tables.
        worker_env = {**env, "BENCH_BEAT_TASKS": "verify-log-drain"}
        worker = subprocess.Popen(  # noqa: S603 - fixed commands from this checkout
            [
                str(ROOT / ".venv" / "bin" / "celery"),
                "-A",
                "portal",
                "worker",
                "--beat",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                "--hostname",
                f"bench-{os.getpid()}@%h",
                "--schedule",
                str(RESULTS / "celerybeat-schedule"),
            ],
            cwd=ROOT,
            env=worker_env,
            start_new_session=True,
        )
    # The production configuration (gunicorn.conf.py, as the Procfile runs it: preloaded app warmed before forking
    # (portal/warmup.py), workers recycled after about 20 000 requests (GUNICORN_MAX_REQUESTS), an access log line
    # per request), on loopback with BENCH_GUNICORN_WORKERS.
    server = subprocess.Popen(  # noqa: S603 - fixed commands from this checkout
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            *(["-c", str(GUNICORN_CONFIG)] if GUNICORN_CONFIG.exists() else []),
            "portal.wsgi:application",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,  # the access log: written (its cost is measured), not shown
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/bench/minimal/", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        wrk(url_path="/bench/minimal/")  # warm-up: connections, imports
        first_api = wrk(path_prefix="/api/verify/")
        runs = {"minimal": [], "api": [], "page": []}
        for _ in range(RUNS):
            runs["minimal"].append(wrk(url_path="/bench/minimal/"))
            runs["api"].append(wrk(path_prefix="/api/verify/"))
            runs["page"].append(wrk(path_prefix="/verify/"))
        verify_runs = [first_api, *runs["api"], *runs["page"]]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if worker:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
    final_drain()
    answered = sum(r["requests"] for r in verify_runs)
    logged = logged_verifications() - logged_before

    def median(name, key):
        return statistics.median(r[key] for r in runs[name])

    base = median("minimal", "rps")
    table = []
    for name, label in (
        ("minimal", "minimal Django view"),
        ("api", "/api/verify/<code>/"),
        ("page", "/verify/<code>/"),
    ):
        table.append(
            {
                "endpoint": label,
                "rps": round(median(name, "rps"), 1),
                "ratio_to_minimal": round(median(name, "rps") / base, 3),
                "p50_ms": round(median(name, "p50_ms"), 2),
                "p99_ms": round(median(name, "p99_ms"), 2),
                "non_2xx": sum(r["non_2xx"] for r in runs[name]),
            }
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_check = {"answered_by_wrk": answered, "logged": logged, "buffered": bool(worker)}
    (RESULTS / "verify_load.json").write_text(
        json.dumps({"certificates": certificates, "runs": runs, "median": table, "log": log_check}, indent=2)
    )
    print("| endpoint | req/s | vs minimal | p50 ms | p99 ms | non-2xx |")
    print("|---|---|---|---|---|---|")
    for row in table:
        print(
            f"| {row['endpoint']} | {row['rps']} | {row['ratio_to_minimal']:.0%} | {row['p50_ms']} | {row['p99_ms']} "
            f"| {row['non_2xx']} |"
        )
    print("targets: /api/verify/ >= 60 % of the minimal view, p99 < 50 ms; /verify/ >= 40 %, p99 < 100 ms")
    print(f"{certificates:,} bench certificates")
    record_results(table, log_check, certificates)
    # wrk counts the requests it saw answered; up to 32 more per run may have been answered after it stopped.
    print(f"verification log: {logged} rows for {answered} verifications answered to wrk")
    if logged < answered:
        sys.exit("verifications were lost: fewer log rows than answered verifications")


def record_results(table, log_check, certificates):
    """The "verify" section of the shared table (bench/results.py)."""
    from bench import results

    minimal, api, page = table
    figures = [
        results.figure(
            f"{row['endpoint']}: requests/s (p50 {row['p50_ms']} ms, {row['non_2xx']} non-2xx)",
            row["rps"],
            "req/s",
            runs=RUNS,
            baseline=minimal["rps"],
            baseline_name="minimal Django view, same gunicorn",
            target="≥ 60 % of the minimal view" if row is api else "≥ 40 % of the minimal view",
            met=row["ratio_to_minimal"] >= (0.6 if row is api else 0.4),
        )
        for row in (api, page)
    ]
    figures += [
        results.figure(
            f"{row['endpoint']}: p99 latency",
            row["p99_ms"],
            "ms",
            runs=RUNS,
            baseline=minimal["p99_ms"],
            baseline_name="minimal Django view, same gunicorn",
            target="< 50 ms" if row is api else "< 100 ms",
            met=row["p99_ms"] < (50 if row is api else 100),
        )
        for row in (api, page)
    ]
    results.record(
        "verify",
        f"Public verification (1): {certificates:,} certificates, gunicorn, 32 connections",
        figures,
        [
            f"gunicorn with {WORKERS} workers and "
            + (
                "gunicorn.conf.py (preloaded and warmed, workers recycled every ~20 000 requests, access log) "
                if GUNICORN_CONFIG.exists()
                else ""
            )
            + "(production settings, DEBUG off, persistent connections), wrk -t2 -c32 "
            f"for {DURATION} per run, random existing codes; the minimal view's own figures: {minimal['rps']} req/s, "
            f"p50 {minimal['p50_ms']} ms, p99 {minimal['p99_ms']} ms.",
            f"Verifications are buffered in Redis and drained into PostgreSQL by a worker on the same cores: "
            f"{log_check['logged']} log rows for {log_check['answered_by_wrk']} verifications answered to wrk.",
        ],
        details={"median": table, "log": log_check},
    )


if __name__ == "__main__":
    main()
