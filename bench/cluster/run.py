"""`make cluster-test`: the scale-out rehearsal. Two web nodes and two workers on this machine, one of each killed.

What runs (loopback only; docs/deploy.md#scale-out-rehearsal-make-cluster-test has the picture):

- an S3-compatible object store: moto's server mode (PyPI `moto`, already in requirements.txt for the tests), one
  bucket, used by every node through STORAGE_BACKEND=s3, so no node keeps a file another needs;
- two gunicorn web nodes (gunicorn.conf.py, production settings), each in its own process group with its own VAR_DIR;
- nginx from Debian, unprivileged, with its own prefix and configuration (bench/cluster/topology.py), in front;
- two Celery workers on pdf, notify and default, each its own process group and VAR_DIR, and one beat;
- the machine's PostgreSQL and Redis, in a database and a Redis db of this run's own (dropped and flushed first; the
  database copied from a migrated template an earlier run kept, when the migrations are the same);
- `make load`'s scenario (bench/load/locustfile.py, its fixtures and its checks, imported from bench/load/run.py)
  against the proxy for CLUSTER_DURATION seconds. Midway, web node 1 and worker 1 are killed with SIGKILL.

Afterwards the worker left drains the queues, then `make load`'s consistency checks run, and these: every outbox
message sent, the clients saw fail only requests that were in flight on the killed node (the proxy's log says which
were), the surviving node took over. The figures go to bench/results/cluster.md and cluster.json. The whole run is
bounded by CLUSTER_TIME_LIMIT seconds; it exits non-zero when anything failed.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent.parent
WORK = ROOT / "var" / "cluster"
RESULTS = ROOT / "bench" / "results"
DATABASE_URL = os.environ.get("CLUSTER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_cluster")
REDIS_URL = os.environ.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/12")
PROXY_PORT = int(os.environ.get("CLUSTER_PORT", "8961"))
NODE_PORTS = (PROXY_PORT + 1, PROXY_PORT + 2)
S3_PORT = PROXY_PORT + 3
DURATION = int(os.environ.get("CLUSTER_DURATION", "120"))
TIME_LIMIT = int(os.environ.get("CLUSTER_TIME_LIMIT", "480"))
WEB_CONCURRENCY = os.environ.get("CLUSTER_WEB_CONCURRENCY", "3")  # gunicorn workers per node
WORKER_CONCURRENCY = 2
BUCKET = "portal-cluster"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# bench/load/run.py reads its configuration from the environment when imported: point it at this run.
os.environ.update(
    LOAD_WORK_DIR=str(WORK),
    LOAD_DATABASE_URL=DATABASE_URL,
    LOAD_REDIS_URL=REDIS_URL,
    LOAD_PORT=str(PROXY_PORT),  # SITE_URL: the proxy's address
    LOAD_DURATION=str(DURATION),
)
os.environ.setdefault("LOAD_DRAIN_TIMEOUT", "150")
os.environ.setdefault("LOAD_SEED_CERTIFICATES", "12")  # for the verifiers: 10 valid, 2 revoked
# A fifth of make load's people: two nodes, two workers, an S3 server and the load generator share two cores, and the
# machine it runs on is often busy with more (docs/deploy.md#scale-out-rehearsal-make-cluster-test).
os.environ.setdefault("LOAD_SCALE", "0.2")
sys.path.insert(0, str(ROOT))

from bench.cluster import topology  # noqa: E402
from bench.load import figures  # noqa: E402
from bench.load import run as load  # noqa: E402

T0 = time.monotonic()


def log(message):
    print(f"[cluster +{time.monotonic() - T0:4.0f} s] {message}", flush=True)


class TimeLimit(Exception):
    pass


def _time_limit(signum, frame):
    raise TimeLimit(f"the rehearsal ran over CLUSTER_TIME_LIMIT ({TIME_LIMIT} s)")


def environment() -> dict:
    """make load's production environment, with the object store, the proxy chain and short recovery clocks."""
    return {
        **load.environment(),
        "STORAGE_BACKEND": "s3",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{S3_PORT}",
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": "cluster-rehearsal",
        "AWS_SECRET_ACCESS_KEY": "cluster-rehearsal-not-a-secret",  # noqa: S105 - moto accepts any key
        # The load generator stands for the outer load balancer (it sets X-Forwarded-For), nginx appends its own.
        "TRUSTED_PROXY_COUNT": "2",
        "WEB_CONCURRENCY": WEB_CONCURRENCY,
        # A killed worker's certificate is re-queued by the beat sweep after this (3 min in production), and its
        # half-sent message by the relay after NOTIFY_CLAIM_TIMEOUT_SECONDS (10 min): shortened to fit the run.
        "CERTIFICATE_REQUEUE_AFTER_MINUTES": "1",
        "NOTIFY_CLAIM_TIMEOUT_SECONDS": "30",
    }


def node_environment(env: dict, name: str) -> dict:
    """Each node has a VAR_DIR of its own (beat's schedule, collected static files), as on separate machines."""
    var = WORK / name
    if not (var / "static").exists():
        # The same release's collected static files on every node (hard links: a copy without the disk).
        shutil.copytree(WORK / "static", var / "static", copy_function=os.link)
    return {**env, "VAR_DIR": str(var)}


def migrations_stamp() -> str:
    """A digest of every migration file on disk: a template database made with other migrations is not used."""
    import hashlib
    import importlib

    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256()
    for app, name in sorted(MigrationLoader(None, ignore_no_migrations=True).disk_migrations):
        module = importlib.import_module(MigrationLoader.migrations_module(app)[0] + "." + name)
        digest.update(f"{app}.{name}".encode() + Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def fresh_migrated_database() -> str:
    """The run's database, dropped and made again, migrated: a copy of `<name>_template` when an earlier run left one
    made with the same migrations (CREATE DATABASE … TEMPLATE copies files: seconds, where migrating takes a minute
    on a busy 2-core machine), otherwise migrated, then kept as that template for the next run."""
    import psycopg2
    from django.core.management import call_command
    from django.db import connections

    name = urlsplit(DATABASE_URL).path.lstrip("/")
    if "cluster" not in name:
        sys.exit(f"refusing to recreate {name!r}: this run uses a database of its own (with cluster in its name)")
    template, stamp = f"{name}_template", migrations_stamp()
    admin = psycopg2.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [template]
            )
            row = cursor.fetchone()
            if row and row[0] == stamp:
                cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                return "copied from the template of an earlier run"
            cursor.execute(f'CREATE DATABASE "{name}"')
            call_command("migrate", interactive=False, verbosity=0)
            connections.close_all()  # a template must have no other session
            cursor.execute(f'DROP DATABASE IF EXISTS "{template}"')
            cursor.execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
            cursor.execute(f'COMMENT ON DATABASE "{template}" IS %s', [stamp])
            return f"migrated (and kept as {template} for the next run)"
    finally:
        admin.close()


def wait_for(url: str, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback, fixed scheme
                return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"{what} did not answer within {timeout:.0f} s ({url})")


def start_object_store(env: dict):
    """moto's S3 server on loopback, and the bucket every node stores into."""
    process = load.start(
        "s3", [str(load.BIN / "python"), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(S3_PORT)], env
    )
    wait_for(f"http://127.0.0.1:{S3_PORT}/", "the S3 server (moto)")
    s3_client(env).create_bucket(Bucket=BUCKET)
    return process


def s3_client(env: dict):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=env["AWS_S3_ENDPOINT_URL"],
        region_name=env["AWS_S3_REGION_NAME"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def count_objects(env: dict) -> int:
    pages = s3_client(env).get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return sum(page.get("KeyCount", 0) for page in pages)


def start_proxy(env: dict):
    prefix = WORK / "nginx"
    prefix.mkdir(parents=True, exist_ok=True)
    config = prefix / "nginx.conf"
    config.write_text(
        topology.nginx_config(
            prefix=str(prefix), listen_port=PROXY_PORT, nodes=list(NODE_PORTS), static_root=str(WORK / "static")
        )
    )
    base = [NGINX, "-p", str(prefix), "-c", str(config), "-e", str(prefix / "nginx-error.log")]
    test = subprocess.run([*base, "-t"], capture_output=True, text=True)  # noqa: S603 - fixed command
    if test.returncode:
        sys.exit(f"nginx refused its configuration ({config}):\n{test.stderr}")
    process = load.start("nginx", [*base, "-g", "daemon off;"], env)
    load.wait_healthy(port=PROXY_PORT, log_name="nginx/nginx-error.log")
    return process


def established_connections(port: int) -> int:
    """TCP connections open to a local port: requests being served or waiting in its accept queue."""
    import psutil

    return sum(
        1
        for c in psutil.net_connections(kind="tcp")
        if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


def kill(processes: dict) -> dict:
    """SIGKILL to the whole process group of web node 1 and of worker 1: a machine gone, not a shutdown."""
    connections = established_connections(NODE_PORTS[0])
    kill_time = time.time()
    for name in ("web1", "worker1"):
        os.killpg(processes[name].pid, signal.SIGKILL)
    for name in ("web1", "worker1"):
        processes[name].wait()
    # Until the last process of the group is gone the node's listening socket still takes connections (the kernel
    # queues them), so a request sent in these milliseconds is in flight on the dying node too.
    return {"at": kill_time, "gone_at": time.time(), "connections_open_on_web1": connections}


def wait_outbox_sent(since, timeout: float) -> float:
    """Until no message of the run is pending or being sent (a dead worker's claim runs out, then the relay sends)."""
    from portal.notify.models import MessageStatus, OutboxMessage

    started = time.monotonic()
    unsent = OutboxMessage.objects.filter(
        created_at__gte=since, status__in=(MessageStatus.PENDING, MessageStatus.SENDING)
    )
    while unsent.exists() and time.monotonic() - started < timeout:
        time.sleep(1.0)
    return round(time.monotonic() - started, 1)


def check_outbox_sent(since) -> dict:
    """Every message of the run delivered: sent, or kept by the database SMS backend (its final state)."""
    from collections import Counter

    from portal.notify.models import MessageStatus, OutboxMessage

    rows = OutboxMessage.objects.filter(created_at__gte=since)
    by_status = Counter(rows.values_list("status", flat=True))
    left = {s: n for s, n in by_status.items() if s not in (MessageStatus.SENT, MessageStatus.KEPT)}
    problems = [f"{n} messages {s}" for s, n in left.items()]
    return {"name": "outbox: every message sent", "ok": not problems, "detail": problems, "by_status": dict(by_status)}


def check_failover(served: dict, cut: dict) -> dict:
    """Both nodes served before the kill, only the survivor after it, and the dead node's requests were seen."""
    node1, node2 = (f"127.0.0.1:{port}" for port in NODE_PORTS)
    one, two = served.get(node1, {}), served.get(node2, {})
    problems = []
    if not (one.get("before_kill") and two.get("before_kill")):
        problems.append(f"the proxy did not use both nodes before the kill: {served}")
    if one.get("after_kill"):
        problems.append(f"the killed node answered {one['after_kill']} requests after the kill")
    if not two.get("after_kill"):
        problems.append("the surviving node answered nothing after the kill")
    return {"name": "failover: the surviving node took over", "ok": not problems, "detail": problems, **cut}


def main():  # noqa: PLR0915 - one run, step after step
    started_wall = datetime.now().astimezone()
    signal.signal(signal.SIGALRM, _time_limit)
    signal.alarm(TIME_LIMIT)
    for old in WORK.glob("*") if WORK.exists() else ():
        if old.name != "static":
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    (WORK / "mail").mkdir(parents=True)
    env = environment()
    processes: dict = {}
    try:
        processes["s3"] = start_object_store(env)
        log(f"S3 server (moto) on 127.0.0.1:{S3_PORT}, bucket {BUCKET}")
        load.fresh_redis()  # LOAD_REDIS_URL: this run's
        os.environ.update(env)
        import django

        django.setup()
        from django.utils import timezone

        from portal.verify.models import IssuedDocument

        how = fresh_migrated_database()
        log(f"fresh database {urlsplit(DATABASE_URL).path.lstrip('/')} ({how}) and Redis {REDIS_URL}")
        log("static files " + ("collected" if load.collect_static() else "unchanged since the last run"))
        since = timezone.now()
        run_id = os.urandom(2).hex()
        queues = load.worker_queues()
        for n in (1, 2):
            name = f"worker{n}"
            command = load.worker_command(queues, f"cluster-{name}-{os.getpid()}@%h", WORKER_CONCURRENCY)
            processes[name] = load.start(name, command, node_environment(env, name))
        processes["beat"] = load.start(
            "beat", [str(load.BIN / "celery"), "-A", "portal", "beat", "-l", "WARNING"], node_environment(env, "beat")
        )
        log(f"2 workers on {', '.join(queues)} (-c {WORKER_CONCURRENCY} each) and beat; seeding")
        load.write_fixture(run_id)
        nodes = []
        for n, port in enumerate(NODE_PORTS, 1):
            name = f"web{n}"
            command, flags = load.gunicorn_command(port=port, access_log=f"{name}-access.log")
            processes[name] = load.start(name, command, node_environment(env, name))
            nodes.append((f"{name}-access.log", f"{name}.log"))
        for n, port in enumerate(NODE_PORTS, 1):
            load.wait_healthy(port=port, log_name=f"web{n}.log")
        processes["nginx"] = start_proxy(env)
        log(f"2 web nodes (gunicorn, {WEB_CONCURRENCY} workers each) behind nginx on 127.0.0.1:{PROXY_PORT}")
        log(f"{DURATION} s of load with {sum(load.USERS.values())} simulated people; the kill at {DURATION // 2} s")
        load_started = time.monotonic()
        processes["locust"] = load.start(
            "locust", load.locust_command(f"http://127.0.0.1:{PROXY_PORT}"), load.locust_environment(env)
        )
        killed = None
        while processes["locust"].poll() is None:
            if killed is None and time.monotonic() - load_started >= DURATION / 2:
                killed = kill(processes)
                log(f"SIGKILL to web1 and worker1 ({killed['connections_open_on_web1']} connections open on web1)")
            time.sleep(0.2)
            if time.monotonic() - load_started > DURATION + 60:
                log("locust overran its time; stopping it")
                break
        load.stop(processes.pop("locust"))
        load_seconds = time.monotonic() - load_started
        for name in ("nginx", "web2"):
            load.stop(processes.pop(name))
        if killed is None:
            sys.exit("the load ended before the kill (CLUSTER_DURATION too short?)")
        log(f"load done in {load_seconds:.0f} s; worker2 drains (at most {load.DRAIN_TIMEOUT} s)")
        drained = load.drain(queues, load.DRAIN_TIMEOUT)
        drained["outbox_seconds"] = wait_outbox_sent(since, max(10.0, load.DRAIN_TIMEOUT - drained["seconds"]))
        for name in ("worker2", "beat"):
            load.stop(processes.pop(name))
        log("drained; checking")

        client = json.loads((WORK / "client.json").read_text())
        stats, _failures = figures.read_locust_stats(WORK / "locust")
        requests = topology.parse_proxy_log((WORK / "nginx" / "nginx-access.log").read_text(errors="replace"))
        cut = topology.cut_off_on(requests, f"127.0.0.1:{NODE_PORTS[0]}", killed["gone_at"])
        served = topology.served_per_node(requests, killed["at"])
        judged = topology.judge_client_failures(
            client["failed_at"], killed["at"], cut["in_flight_at_kill"], gone_time=killed["gone_at"]
        )
        checks = [
            *load.consistency_checks(client, run_id, since),
            check_outbox_sent(since),
            check_failover(served, cut),
            {"name": "clients: only requests in flight on the killed node failed", **judged},
        ]
        kill_moment = datetime.fromtimestamp(killed["at"], tz=UTC)
        total = next(row for row in stats if row["name"] == "Aggregated")
        server_overall, _routes = figures.server_times(WORK, nodes)
        report = {
            "started": started_wall.isoformat(timespec="seconds"),
            "duration_s": DURATION,
            "load_seconds": round(load_seconds, 1),
            "users": load.USERS,
            "web_concurrency": WEB_CONCURRENCY,
            "worker_concurrency": WORKER_CONCURRENCY,
            "queues": queues,
            "kill": {
                **killed,
                "at": kill_moment.isoformat(timespec="milliseconds"),
                "gone_after_ms": round((killed["gone_at"] - killed["at"]) * 1000, 1),
            },
            "total": total,
            "status_codes": client["status_codes"],
            "served_per_node": served,
            "drain": drained,
            "certificates_issued_after_the_kill": IssuedDocument.objects.filter(issued_at__gt=kill_moment).count(),
            "objects_in_the_bucket": count_objects(env),
            "server_time": server_overall,
            "server_logs": figures.server_errors_logged(
                WORK, web=("web1.log", "web2.log"), workers=("worker1.log", "worker2.log")
            ),
            "checks": checks,
            "run_seconds": round(time.monotonic() - T0, 1),
        }
    finally:
        signal.alarm(0)
        for name in list(processes):
            load.stop(processes.pop(name))
    write_report(report)
    print((RESULTS / "cluster.md").read_text())
    bad = [c["name"] for c in checks if not c["ok"]]
    if bad:
        sys.exit("cluster rehearsal FAILED: " + "; ".join(bad))
    log(f"all checks passed in {report['run_seconds']} s; results in {RESULTS / 'cluster.md'}")


def write_report(report: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cluster.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    total, drain, kill_ = report["total"], report["drain"], report["kill"]
    failover = next(c for c in report["checks"] if c["name"].startswith("failover"))
    clients = next(c for c in report["checks"] if c["name"].startswith("clients"))
    codes = report["status_codes"]
    lines = [
        "# Scale-out rehearsal (make cluster-test)",
        "",
        f"Run {report['started']}: nginx → 2 gunicorn nodes ({report['web_concurrency']} workers each), 2 Celery "
        f"workers (-c {report['worker_concurrency']}, {', '.join(report['queues'])}), 1 beat, PostgreSQL, Redis, "
        f"S3 (moto server); {report['duration_s']} s of `make load`'s people ({json.dumps(report['users'])}); "
        f"web1 and worker1 killed with SIGKILL at {kill_.get('at')}. One 2-core machine, the load generator included.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| throughput | {total['rps']} requests/s ({total['requests']} requests) |",
        f"| p50 / p95 / p99, all requests | {total['p50_ms']:.0f} / {total['p95_ms']:.0f} / {total['p99_ms']:.0f} ms |",
        f"| failed requests seen by clients | {total['failures']} |",
        f"| 5xx answers | {sum(n for c, n in codes.items() if c.isdigit() and int(c) >= 500)} |",
        f"| requests in flight on web1 at the kill (proxy log) | {failover['in_flight_at_kill']} "
        f"({failover['of_which_retried_on_another_node']} retried on web2, "
        f"{failover['of_which_failed_to_the_client']} failed to the client) |",
        f"| connections open on web1 at the kill; its processes gone after | {kill_['connections_open_on_web1']}; "
        f"{kill_['gone_after_ms']} ms |",
        f"| client failures while in flight at the kill / at other times | "
        f"{clients['failed_while_in_flight_at_the_kill']} / {clients['failed_at_other_times']} |",
        f"| attempts at the dead node after the kill (retried at once) | "
        f"{failover['attempts_at_the_dead_node_after_the_kill']} |",
        "| served per node (before / after the kill) | "
        + ", ".join(
            f"{n}: {c['before_kill']} / {c['after_kill']}" for n, c in sorted(report["served_per_node"].items())
        )
        + " |",
        f"| drain after the load (queues; outbox) | {drain['seconds']} s; {drain['outbox_seconds']} s |",
        f"| certificates issued after the kill (by worker2) | {report['certificates_issued_after_the_kill']} |",
        f"| objects in the bucket | {report['objects_in_the_bucket']} |",
        f"| time inside Django, p50 / p95 | {report['server_time'].get('p50_ms')} / "
        f"{report['server_time'].get('p95_ms')} ms |",
        f"| whole run | {report['run_seconds']} s |",
        "",
        "| check | result | figures |",
        "|---|---|---|",
    ]
    for check in report["checks"]:
        figures = {k: v for k, v in check.items() if k not in ("name", "ok", "detail", "problems")}
        result = "ok" if check["ok"] else "FAILED: " + "; ".join(str(d) for d in check["detail"][:3])
        lines.append(f"| {check['name']} | {result} | {json.dumps(figures, ensure_ascii=False, default=str)} |")
    lines += ["", f"Server logs: {json.dumps(report['server_logs'])}", ""]
    (RESULTS / "cluster.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
