"""`make load`: two minutes of citizens, officers and verifiers against the production process layout, then checks.

1. A fresh database (LOAD_DATABASE_URL, default portal_load: dropped and created again) and Redis database
   (LOAD_REDIS_URL, default db 13: flushed), migrated; static files collected into var/load/.
2. A real Celery worker on every queue the settings route to (plus pdf, notify, default and Celery's default
   queue) and one beat, then the seed data (bench/load/fixtures.py) made through the services: stations, officers
   with TOTP devices, issued certificates (rendered and signed by that worker).
3. gunicorn with the production settings (DEBUG off, PostgreSQL, Redis, STAFF_MFA_REQUIRED on, production rate
   limits, TRUSTED_PROXY_COUNT=1 as behind the TLS proxy), from gunicorn.conf.py when the repository has one.
4. locust, headless, on loopback only, for LOAD_DURATION (default 120 s): bench/load/locustfile.py.
5. The worker drains what the run left (certificates, messages, the verification log), bounded in time; then the
   checks in bench/load/check.py, and the figures in bench/results/load.md and load.json.

Exits non-zero when a check fails, a request failed (an unexpected answer, or none) or any answer was a 5xx.
"""

import importlib.metadata
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
# Where the run keeps its logs and files; the cluster rehearsal (bench/cluster/run.py) points it elsewhere.
WORK = Path(os.environ.get("LOAD_WORK_DIR") or ROOT / "var" / "load")
PORT = int(os.environ.get("LOAD_PORT", "8941"))
DURATION = int(os.environ.get("LOAD_DURATION", "120"))
DRAIN_TIMEOUT = int(os.environ.get("LOAD_DRAIN_TIMEOUT", "180"))
SEED_CERTIFICATES = int(os.environ.get("LOAD_SEED_CERTIFICATES", "24"))
DATABASE_URL = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_load")
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/13")
# How many of each simulated person (locustfile.py's classes); LOAD_SCALE shrinks them all for a quick try.
SCALE = float(os.environ.get("LOAD_SCALE", "1"))
USERS = {
    name: max(1, round(n * SCALE)) for name, n in {"Citizen": 100, "Officer": 10, "Verifier": 45, "Scanner": 5}.items()
}
WORKER_CONCURRENCY = 2  # the machine's cores


T0 = time.monotonic()


def log(message):
    print(f"[load +{time.monotonic() - T0:4.0f} s] {message}", flush=True)


def fresh_database():
    """Drop and create the load database; refuses any database whose name does not say it is for load tests."""
    import psycopg2

    name = urlsplit(DATABASE_URL).path.lstrip("/")
    if "load" not in name:
        sys.exit(f"refusing to recreate {name!r}: the load test uses a database of its own (with load in its name)")
    admin = psycopg2.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def fresh_redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


def identity_gateway() -> str:
    """The mobile operator's identity gateway, stood in by the tests' one (tests/identity_gateway.py) in a thread of
    this process: every check matches. Started once; its address is the carrier backend's IDENTITY_GATEWAY_URL."""
    global _gateway_url
    if _gateway_url is None:
        from tests.identity_gateway import GatewayHandler

        server = ThreadingHTTPServer(("127.0.0.1", 0), GatewayHandler)
        server.answers, server.received, server.lock = [], [], threading.Lock()  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        _gateway_url = f"http://127.0.0.1:{server.server_address[1]}/check"
    return _gateway_url


_gateway_url: str | None = None


def environment() -> dict:
    signing = ROOT / "var" / "signing"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": "load-" + secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{PORT}",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "VAR_DIR": str(WORK),
        "MEDIA_ROOT": str(WORK / "media"),
        "SIGNING_KEY_FILE": os.environ.get("SIGNING_KEY_FILE", str(signing / "key.pem")),
        "SIGNING_CERT_FILE": os.environ.get("SIGNING_CERT_FILE", str(signing / "cert.pem")),
        "SIGNING_CHAIN_FILE": os.environ.get("SIGNING_CHAIN_FILE", str(signing / "chain.pem")),
        "SIGNING_TRUST_ROOTS_FILE": os.environ.get("SIGNING_TRUST_ROOTS_FILE", str(signing / "roots.pem")),
        "SIGNING_HISTORY_FILE": os.environ.get("SIGNING_HISTORY_FILE", str(signing / "history.pem")),
        # E-mail through Django's file backend (stands in for the SMTP relay); SMS kept in the outbox (database).
        "EMAIL_URL": f"file://{WORK / 'mail'}",
        "SMS_BACKEND": "database",
        # The stand-ins above (http:// SITE_URL, SMS kept, e-mail to files) are what portal/checks.py refuses in
        # production; this run uses them on purpose, so its worker and beat may start.
        # E017: the load test signs PAdES B-B (no TSA), to measure the portal rather than the test PKI.
        "SILENCED_SYSTEM_CHECKS": "portal.E002,portal.E005,portal.E008,portal.E014,portal.E017",
        # Identity checks through the carrier backend's real client, against the stand-in gateway above (plain http
        # on loopback: portal.E014 silenced below).
        "IDENTITY_CHECK_BACKENDS": "carrier",
        "IDENTITY_GATEWAY_URL": identity_gateway(),
        "IDENTITY_GATEWAY_TOKEN": "load-test-gateway",
        "STAFF_MFA_REQUIRED": "1",
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
    }


def start(name, command, env):
    handle = open(WORK / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(  # noqa: S603 - fixed commands from this checkout
        command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    process.log_handle = handle
    return process


def stop(process, timeout=60):
    """SIGTERM to the process itself (gunicorn's and Celery's masters stop their children after finishing what they
    are doing: a TERM to the whole group would cut a worker's task short), SIGKILL to the group if it hangs."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    process.log_handle.close()


def worker_queues() -> list[str]:
    from django.conf import settings

    queues = {"pdf", "notify", "default", getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery") or "celery"}
    routes = getattr(settings, "CELERY_TASK_ROUTES", None) or {}
    if isinstance(routes, dict):
        queues |= {route["queue"] for route in routes.values() if isinstance(route, dict) and route.get("queue")}
    for queue in getattr(settings, "CELERY_TASK_QUEUES", None) or ():
        queues.add(getattr(queue, "name", queue))
    return sorted(queues)


def gunicorn_command(port=PORT, access_log="access.log") -> tuple[list[str], str]:
    base = [str(BIN / "gunicorn"), "portal.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    # The time each request spent in Django (%(D)s, microseconds), apart from the wait for a free worker.
    base += ["--access-logfile", str(WORK / access_log), "--access-logformat", "%(m)s %(U)s %(s)s %(D)s"]
    config = ROOT / "gunicorn.conf.py"
    if config.is_file():
        return [*base, "--config", str(config)], "gunicorn.conf.py"
    # As README's production line: several workers, here with two threads each.
    flags = ["--workers", "4", "--worker-class", "gthread", "--threads", "2", "--timeout", "30"]
    return [*base, *flags], " ".join(flags)


def cpu_seconds(process) -> float:
    """CPU time of a process and its children (live ones, and those it has reaped)."""
    import psutil

    try:
        root = psutil.Process(process.pid)
        total = sum(root.cpu_times()[:4])
        for child in root.children(recursive=True):
            try:
                total += sum(child.cpu_times()[:2])
            except psutil.NoSuchProcess:
                pass
        return total
    except psutil.NoSuchProcess:
        return 0.0


def wait_healthy(timeout=60.0, port=PORT, log_name="gunicorn.log"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit(f"nothing answered /healthz/ on port {port} within {timeout:.0f} s (see {WORK / log_name})")


def drain(queues, timeout) -> dict:
    """Wait until the worker has issued every approved certificate and delivered every due message."""
    from django.utils import timezone

    from certificates.models import Application, Status
    from portal.notify.models import MessageStatus, OutboxMessage
    from portal.ratelimit import redis_client
    from portal.verify.logbuffer import verification_log_backlog, verification_log_drain

    started = time.monotonic()
    client = redis_client()
    while True:
        approved = Application.objects.filter(status=Status.APPROVED).count()
        due = OutboxMessage.objects.filter(
            status__in=(MessageStatus.PENDING, MessageStatus.SENDING), next_attempt_at__lte=timezone.now()
        ).count()
        queued = sum(client.llen(q) for q in queues)
        if not (approved or due or queued):
            break
        if time.monotonic() - started > timeout:
            log(f"drain timed out: {approved} approved without certificate, {due} messages due, {queued} tasks queued")
            break
        time.sleep(1.0)
    seconds = time.monotonic() - started
    while verification_log_backlog():
        verification_log_drain(time_budget=30.0)
    return {"seconds": round(seconds, 1), "approved_left": approved, "messages_due_left": due, "tasks_left": queued}


def write_report(report: dict):
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    total = report["total"]
    server = report["server_time"]
    la = report["load_average_1min"]
    cpu_text = ", ".join(f"{name} {seconds}" for name, seconds in report["cpu_seconds_during_load"].items())
    lines = [
        "# Load test (make load)",
        "",
        f"Run {report['started']}: {report['duration_s']} s of load, {report['users']} simulated people "
        f"({', '.join(f'{n} {k.lower()}s' for k, n in USERS.items())}), locust {report['locust']} on loopback, "
        f"gunicorn ({report['gunicorn']}), a Celery worker (-c {WORKER_CONCURRENCY}, queues "
        f"{', '.join(report['queues'])}) and beat, PostgreSQL, Redis; production settings (DEBUG off, staff MFA on, "
        "production rate limits, one client address per simulated person behind TRUSTED_PROXY_COUNT=1). "
        "All on one 2-core machine, the load generator included.",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| throughput | {total['rps']} requests/s ({total['requests']} requests) | |",
        f"| p50 / p95 / p99, all requests | {total['p50_ms']:.0f} / {total['p95_ms']:.0f} / {total['p99_ms']:.0f} ms | |",
        f"| failed requests (unexpected answer) | {total['failures']} | 0 |",
        f"| 5xx answers | {report['http_5xx']} | 0 |",
        f"| no answer (connection error, timeout) | {report['no_answer']} | 0 |",
        f"| GETs sent again after the server closed a kept-alive connection | "
        f"{report['outcomes']['get_retried_on_a_closed_connection']} | (as browsers do) |",
        f"| applications submitted | {report['outcomes']['submitted']} of {USERS['Citizen']} citizens | |",
        f"| accepted / approved by officers (client count) | {report['outcomes']['accepted']} / "
        f"{report['outcomes']['approved']} | |",
        f"| officers told another acted first | {report['outcomes']['conflicts']} | (expected, not an error) |",
        f"| certificates downloaded by citizens during the run | {report['outcomes']['downloads']} | |",
        f"| double-clicked “Submit” (what the two clicks got) | "
        f"{json.dumps(report['outcomes']['double_submits'], ensure_ascii=False)} | one submission each |",
        f"| scanner look-ups answered 429 | {report['scanner_429']} of {report['scanner_requests']} | (expected) |",
        f"| worker drain after the run | {report['drain']['seconds']} s | |",
        f"| time inside Django (gunicorn access log), p50 / p95 | {server.get('p50_ms')} / {server.get('p95_ms')} ms "
        "| |",
        f"| CPU seconds used during the load | {cpu_text} (of {2 * report['load_seconds']:.0f} on 2 cores) | |",
        f"| machine load average (1 min, this run included) at start / end | {la['at_start']:.1f} / {la['at_end']:.1f} | |",
        "",
        "## Checks after the run",
        "",
        "| check | result | figures |",
        "|---|---|---|",
    ]
    for check in report["checks"]:
        figures = {k: v for k, v in check.items() if k not in ("name", "ok", "detail", "problems")}
        lines.append(
            f"| {check['name']} | {'ok' if check['ok'] else 'FAILED: ' + '; '.join(check['detail'][:3])} "
            f"| {json.dumps(figures, ensure_ascii=False)} |"
        )
    lines += [
        "",
        "## Per request",
        "",
        "| request | count | failed | req/s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["requests"]:
        if row["name"] == "Aggregated":
            continue
        lines.append(
            f"| {row['method']} {row['name']} | {row['requests']} | {row['failures']} | {row['rps']} "
            f"| {row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {row['p99_ms']:.0f} | {row['max_ms']} |"
        )
    lines += [
        "",
        "## Time inside Django per route (gunicorn access log; the rest of the client's time is waiting for a worker)",
        "",
        "| route | requests | p50 ms | p95 ms | total s |",
        "|---|---|---|---|---|",
    ]
    for row in report["server_routes"]:
        lines.append(
            f"| {row['method']} {row['route']} | {row['requests']} | {row['p50_ms']} | {row['p95_ms']} "
            f"| {row['total_s']} |"
        )
    if report["failures"]:
        lines += ["", "## Failures", "", "| request | error | count |", "|---|---|---|"]
        for failure in report["failures"]:
            lines.append(f"| {failure['method']} {failure['name']} | {failure['error'][:200]} | {failure['count']} |")
    lines += ["", f"Server logs: {json.dumps(report['server_logs'])}", ""]
    (RESULTS / "load.md").write_text("\n".join(lines))


def worker_command(queues, hostname, concurrency=WORKER_CONCURRENCY) -> list[str]:
    return [
        *(str(BIN / "celery"), "-A", "portal", "worker", "-Q", ",".join(queues), "-c", str(concurrency)),
        *("-l", "WARNING", "-n", hostname),
    ]


def write_fixture(run_id):
    """Stations, officers with TOTP devices and issued certificates (bench/load/fixtures.py) in WORK/fixture.json."""
    from bench.load import fixtures

    stations, staff = fixtures.make_stations_and_staff(run_id)
    codes = fixtures.seed_certificates(stations, SEED_CERTIFICATES, run_id)
    log(f"{len(staff)} officers with TOTP devices; {SEED_CERTIFICATES} certificates issued by the worker")
    offices = {a["office"] for a in staff[: USERS["Officer"]]}
    fixture = {
        "run_id": run_id,
        # Citizens apply only where an officer of this run works (all five stations at full scale).
        "stations": [{"pk": s.pk, "name": s.name_en} for s in stations if s.pk in offices],
        "staff": staff,
        "codes": codes,
    }
    (WORK / "fixture.json").write_text(json.dumps(fixture))


def locust_environment(env) -> dict:
    return {
        **env,
        "PYTHONPATH": str(ROOT),  # the locustfile imports bench.load.people
        "LOAD_FIXTURE": str(WORK / "fixture.json"),
        "LOAD_OUT_DIR": str(WORK),
        "LOAD_USERS": json.dumps(USERS),
    }


def locust_command(host) -> list[str]:
    """locust, headless, for DURATION seconds: its figures in WORK/locust_*.csv, its outcomes in WORK/client.json."""
    return [
        *(str(BIN / "locust"), "-f", str(ROOT / "bench" / "load" / "locustfile.py"), "--headless", "--host", host),
        *("--users", str(sum(USERS.values())), "--spawn-rate", "20", "--run-time", f"{DURATION}s"),
        *("--stop-timeout", "20", "--csv", str(WORK / "locust"), "--only-summary", "--loglevel", "WARNING"),
    ]


def consistency_checks(client: dict, run_id: str, since) -> list[dict]:
    """bench/load/check.py's checks, fed with what the clients saw (WORK/client.json)."""
    from bench.load import check

    by_name = client["by_name"]
    answered = sum(
        count
        for name, codes in by_name.items()
        if "verify/[" in name and "pdf" not in name
        for code, count in codes.items()
        if code in ("200", "404")
    )
    viewed = by_name.get("admin: document image (logged view)", {}).get("200", 0)
    return [
        check.check_progress(client),
        check.check_registrations(client, run_id),
        check.check_submissions(client, run_id),
        check.check_approvals(),
        check.check_outbox(since, run_id),
        check.check_mail_delivered(WORK / "mail", since),
        check.check_verification_log(answered, since),
        check.check_document_views(viewed, since),
    ]


def collect_static():
    """collectstatic (manifest, compressed: as deployed) unless var/load/static already holds these very files.

    WhiteNoise compresses every file again on each collectstatic (about 20 s of CPU); the stamp of the finders'
    files (names, sizes, modification times) lets a second run skip it.
    """
    import hashlib

    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders
    from django.core.management import call_command

    entries = []
    for finder in get_finders():
        for path, storage in finder.list([]):
            stat = os.stat(storage.path(path))
            entries.append((path, stat.st_size, stat.st_mtime_ns))
    stamp = hashlib.sha256(repr(sorted(entries)).encode()).hexdigest()
    stamp_file = Path(settings.STATIC_ROOT) / ".load-stamp"
    if stamp_file.is_file() and stamp_file.read_text() == stamp:
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp_file.write_text(stamp)
    return True


def main():
    sys.path.insert(0, str(ROOT))  # bench.load.figures, tests.identity_gateway
    started_wall = datetime.now().astimezone()
    # Everything of the previous run goes, except the collected static files (see collect_static).
    for old in WORK.glob("*") if WORK.exists() else ():
        if old.name != "static":
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    (WORK / "mail").mkdir(parents=True)
    log(f"fresh database {urlsplit(DATABASE_URL).path.lstrip('/')} and Redis {REDIS_URL}")
    fresh_database()
    fresh_redis()
    env = environment()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from bench.load import figures

    call_command("migrate", interactive=False, verbosity=0)
    log("migrated; static files " + ("collected" if collect_static() else "unchanged since the last run"))
    since = timezone.now()
    run_id = secrets.token_hex(2)
    queues = worker_queues()
    processes = {}
    try:
        processes["worker"] = start("worker", worker_command(queues, f"load-{os.getpid()}@%h"), env)
        processes["beat"] = start("beat", [str(BIN / "celery"), "-A", "portal", "beat", "-l", "WARNING"], env)
        log(f"worker on {', '.join(queues)} and beat started; seeding stations, officers, certificates")
        write_fixture(run_id)
        command, gunicorn_flags = gunicorn_command()
        processes["gunicorn"] = start("gunicorn", command, env)
        wait_healthy()
        log(f"gunicorn up ({gunicorn_flags}); {DURATION} s of load with {sum(USERS.values())} simulated people")
        load_started = time.monotonic()
        load_average = [os.getloadavg()[0]]
        cpu_before = {name: cpu_seconds(process) for name, process in processes.items()}
        cpu_now = dict(cpu_before)
        processes["locust"] = start("locust", locust_command(f"http://127.0.0.1:{PORT}"), locust_environment(env))
        while processes["locust"].poll() is None:
            cpu_now = {name: cpu_seconds(process) for name, process in processes.items()}
            time.sleep(1.0)
            if time.monotonic() - load_started > DURATION + 120:
                log("locust overran its time; stopping it")
                break
        cpu = {name: round(cpu_now[name] - cpu_before.get(name, 0.0), 1) for name in cpu_now}
        load_average.append(os.getloadavg()[0])
        stop(processes.pop("locust"))
        load_seconds = time.monotonic() - load_started
        stop(processes.pop("gunicorn"))
        log(f"load done in {load_seconds:.0f} s; draining the worker (at most {DRAIN_TIMEOUT} s)")
        drained = drain(queues, DRAIN_TIMEOUT)
    finally:
        for name in list(processes):
            stop(processes.pop(name))

    if not (WORK / "client.json").is_file() or not (WORK / "locust_stats.csv").is_file():
        tail = (WORK / "locust.log").read_text(errors="replace")[-3000:] if (WORK / "locust.log").exists() else ""
        sys.exit(f"locust did not finish its run; the end of var/load/locust.log:\n{tail}")
    client = json.loads((WORK / "client.json").read_text())
    stats, failures = figures.read_locust_stats(WORK / "locust")
    checks = consistency_checks(client, run_id, since)
    codes = client["status_codes"]
    scanner = {}
    for name, per_status in client["by_name"].items():
        if "scanner" in name:
            for status, count in per_status.items():
                scanner[status] = scanner.get(status, 0) + count
    total = next(row for row in stats if row["name"] == "Aggregated")
    server_overall, server_routes = figures.server_times(WORK)
    report = {
        "started": started_wall.isoformat(timespec="seconds"),
        "duration_s": DURATION,
        "load_seconds": round(load_seconds, 1),
        "users": sum(USERS.values()),
        "user_classes": USERS,
        "locust": importlib.metadata.version("locust"),
        "gunicorn": gunicorn_flags,
        "queues": queues,
        "total": total,
        "status_codes": codes,
        "http_5xx": sum(n for code, n in codes.items() if code.isdigit() and int(code) >= 500),
        "no_answer": codes.get("no-answer", 0),
        "scanner_requests": sum(scanner.values()),
        "scanner_429": scanner.get("429", 0),
        "outcomes": {
            k: (len(v) if isinstance(v, list) else v) for k, v in client.items() if k not in ("by_name", "status_codes")
        },
        "drain": drained,
        "checks": checks,
        "requests": stats,
        "failures": failures,
        "server_logs": figures.server_errors_logged(WORK),
        "cpu_seconds_during_load": cpu,
        "load_average_1min": {"at_start": load_average[0], "at_end": load_average[1]},
        "server_time": server_overall,
        "server_routes": server_routes,
    }
    write_report(report)
    print((RESULTS / "load.md").read_text())
    bad = [c["name"] for c in checks if not c["ok"]]
    if report["http_5xx"]:
        bad.append(f"{report['http_5xx']} answers with a 5xx status")
    if total["failures"]:
        bad.append(f"{total['failures']} requests failed (see Failures in load.md)")
    if not checks[0]["ok"]:
        log(
            "the simulated people did not get far enough for the checks to prove anything; the machine's load "
            f"average was {load_average[1]:.1f} on 2 cores (see 'Reading the figures' in bench/load/README.md)"
        )
    if bad:
        sys.exit("load test FAILED: " + "; ".join(bad))
    log(f"all checks passed; results in {RESULTS / 'load.md'} and load.json")


if __name__ == "__main__":
    main()
