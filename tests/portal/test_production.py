"""The production process layout: queue routing, the Procfile, gunicorn's configuration, /healthz/, request ids,
log redaction, persistent connections and the S3 switch (docs/deploy.md)."""

import fnmatch
import io
import json
import logging
import os
import re
import select
import shlex
import socket
import subprocess
import time
import urllib.request
import uuid

import boto3
import pytest
from celery.signals import before_task_publish, task_prerun
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.test import override_settings
from moto import mock_aws

from portal import celery_app
from portal.logging import RedactFilter, accept_request_id, redact, request_id_var
from tests.portal.production import ROOT, free_port, production_env, run_manage, subprocess_env

ID_NUMBER = "41010519900307123X"  # synthetic numbers with valid check characters
ID_NUMBER_2 = "410105198512120023"
MOBILE = "13812345678"


# --- queues and routing -------------------------------------------------------------------------------------


def route_of(task_name):
    return celery_app.amqp.router.route({}, task_name)["queue"].name


def test_pdf_rendering_notifications_and_sweeps_have_queues_of_their_own():
    assert route_of("certificates.tasks.generate_certificate") == "pdf"
    assert route_of("certificates.tasks.generate_refusal_notice") == "pdf"
    assert route_of("familyplanning.tasks.generate_document") == "pdf"
    assert route_of("portal.notify.tasks.deliver") == "notify"
    assert route_of("portal.notify.tasks.relay_outbox") == "notify"
    assert route_of("portal.cases.tasks.sweep_deadlines") == "default"
    assert route_of("certificates.tasks.requeue_missing_certificates") == "default"
    assert route_of("portal.verify.tasks.drain_verification_log") == "default"


def test_every_registered_task_lands_on_a_declared_queue():
    celery_app.loader.import_default_modules()
    declared = set(django_settings.CELERY_TASK_QUEUES)
    assert declared == {"pdf", "notify", "default"}
    tasks = [name for name in celery_app.tasks if not name.startswith("celery.")]
    assert len(tasks) >= 10
    for name in tasks:
        queue = route_of(name)
        assert queue in declared, name
        # A rendering task anywhere goes to the PDF workers; nothing else does.
        assert (queue == "pdf") == (".tasks.generate_" in name), name
        # The outbox's tasks, and the deadline digests' (it renders the digests a sweep left into the outbox).
        assert (queue == "notify") == (
            name.startswith("portal.notify.") or name == "portal.cases.tasks.send_deadline_digests"
        ), name


def test_every_route_and_beat_entry_names_a_task_that_exists():
    """No dead configuration: a route pattern or a beat entry that matches no registered task fails here."""
    celery_app.loader.import_default_modules()
    tasks = [name for name in celery_app.tasks if not name.startswith("celery.")]
    for pattern in django_settings.CELERY_TASK_ROUTES:
        assert fnmatch.filter(tasks, pattern), pattern
    for entry in django_settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in tasks, entry["task"]


def test_every_beat_entry_is_routed_away_from_the_pdf_queue():
    for entry in django_settings.CELERY_BEAT_SCHEDULE.values():
        assert route_of(entry["task"]) in ("default", "notify"), entry["task"]


def test_a_published_message_goes_to_its_queue():
    """Through kombu's in-memory transport: a flood of renderings waits in `pdf`, not in front of an SMS."""
    seen = []

    def on_publish(sender=None, routing_key=None, **kwargs):
        seen.append((sender, routing_key))

    before_task_publish.connect(on_publish, weak=False)
    try:
        for pk in range(20):
            celery_app.send_task("certificates.tasks.generate_certificate", args=[pk, 1])
        celery_app.send_task("portal.notify.tasks.deliver", args=[1])
        celery_app.send_task("portal.cases.tasks.sweep_deadlines")
    finally:
        before_task_publish.disconnect(on_publish)
    assert seen.count(("certificates.tasks.generate_certificate", "pdf")) == 20
    assert ("portal.notify.tasks.deliver", "notify") in seen
    assert ("portal.cases.tasks.sweep_deadlines", "default") in seen
    with celery_app.connection_for_read() as conn:
        for queue in ("pdf", "notify", "default"):
            conn.default_channel.queue_purge(queue)


def procfile(*, raw=False):
    """The Procfile's processes as argv lists; without raw, celery's global --quiet (no banner) left out."""
    lines = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            argv = shlex.split(command)
            lines[name.strip()] = argv if raw else [arg for arg in argv if arg != "--quiet"]
    return lines


def queues_of(argv):
    for flag in ("--queues", "-Q"):
        if flag in argv:
            return set(argv[argv.index(flag) + 1].split(","))
    return None


def test_procfile_runs_gunicorn_one_worker_pool_per_queue_and_one_beat():
    processes = procfile()
    assert processes["web"][:3] == ["gunicorn", "--config", "gunicorn.conf.py"]
    workers = {name: argv for name, argv in processes.items() if argv[:4] == ["celery", "-A", "portal", "worker"]}
    consumed = [queues_of(argv) for argv in workers.values()]
    assert sorted(q for qs in consumed for q in qs) == ["default", "notify", "pdf"]  # each queue exactly once
    assert all(len(qs) == 1 for qs in consumed)
    assert [argv[:4] for argv in processes.values()].count(["celery", "-A", "portal", "beat"]) == 1


def procfile_command(name):
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.partition(":")[2].strip()
    raise LookupError(name)


@pytest.mark.parametrize("process", ["beat", "worker_default"])
def test_celery_processes_log_at_info_in_json_as_the_procfile_starts_them(process, tmp_path):
    """A log collector reads every line: JSON objects, INFO included, no banner (an INFO "sweep ran" alarm works)."""
    # The embedded broker in a private VAR_DIR: the production checks ask for Redis, which this tier does not have.
    env = {**os.environ, **production_env(tmp_path), "VAR_DIR": str(tmp_path), "SILENCED_SYSTEM_CHECKS": "portal.E009"}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    env.update(DEFAULT_CONCURRENCY="1", PATH=f"{ROOT / '.venv' / 'bin'}:{env['PATH']}")
    ready = "beat: Starting..." if process == "beat" else "ready."
    # As a Procfile runner does: the line through the shell (it expands ${DEFAULT_CONCURRENCY:-2}).
    proc = subprocess.Popen(
        ["/bin/sh", "-c", procfile_command(process)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = []
    try:
        # Patience, not a speed check: a worker starting beside a browser test on two loaded cores can be slow.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any(ready in line for line in lines):
            # A process that logs nothing must fail the test, not hang it: wait for output with a timeout.
            if select.select([proc.stdout], [], [], 1.0)[0]:
                line = proc.stdout.readline()
                if not line:
                    break
                lines.append(line.rstrip("\n"))
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        proc.stdout.close()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(ready in record["message"] and record["level"] == "INFO" for record in records), "\n".join(lines[-30:])
    assert not [line for line in lines if "celery beat v" in line or "--------------" in line], "a banner was printed"


def test_make_run_worker_consumes_every_queue():
    makefile = (ROOT / "Makefile").read_text()
    run_target = makefile[makefile.index("\nrun:") : makefile.index("\ntest:")]
    worker = next(line for line in run_target.splitlines() if "celery -A portal worker" in line)
    assert queues_of(shlex.split(worker.rstrip("& \\"))) == set(django_settings.CELERY_TASK_QUEUES)


def test_gunicorn_configuration(monkeypatch):
    import runpy

    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    monkeypatch.setenv("PORT", "8123")
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert conf["workers"] == 7
    assert conf["bind"] == "127.0.0.1:8123"  # loopback: only the proxy on this machine reaches the app port
    assert conf["preload_app"] is True
    assert conf["max_requests"] > 0 and conf["max_requests_jitter"] > 0
    assert 0 < conf["timeout"] <= 60 and conf["graceful_timeout"] > 0
    assert "%({x-request-id}o)s" in conf["access_log_format"]
    monkeypatch.delenv("WEB_CONCURRENCY")
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    default = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    # Threaded workers by default: one process per core plus one, several requests each (a password hash or a
    # database wait holds a thread, not a process).
    assert default["workers"] == (os.cpu_count() or 1) + 1
    # gunicorn's gthread worker, draining what it accepted when it stops (portal/gunicorn_worker.py)
    assert default["threads"] > 1 and default["worker_class"] == "portal.gunicorn_worker.DrainingThreadWorker"
    monkeypatch.setenv("GUNICORN_THREADS", "1")  # sync workers again, one request per process
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["worker_class"] == "sync"


def test_gunicorn_listens_on_loopback_unless_told_otherwise(monkeypatch):
    """The app port is for the reverse proxy only: never every interface by default (docs/deploy.md)."""
    import runpy

    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["bind"] == "127.0.0.1:8000"
    monkeypatch.setenv("PORT", "9001")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["bind"] == "127.0.0.1:9001"
    monkeypatch.setenv("GUNICORN_BIND", "10.0.3.17:8000")  # a proxy on another machine, by a private address
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["bind"] == "10.0.3.17:8000"
    monkeypatch.setenv("GUNICORN_BIND", "")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["bind"] == "127.0.0.1:9001"
    assert "0.0.0.0" not in (ROOT / "gunicorn.conf.py").read_text()  # noqa: S104 - the address we forbid


def http_get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def http_post(url, headers=None):
    request = urllib.request.Request(url, data=b"case_number=x", headers=headers or {}, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_gunicorn_serves_with_json_access_logs_request_ids_and_no_id_numbers(tmp_path):
    port = free_port()
    env = subprocess_env(tmp_path, PORT=str(port), WEB_CONCURRENCY="1", GUNICORN_BIND=f"127.0.0.1:{port}")
    out, err = open(tmp_path / "out.log", "wb"), open(tmp_path / "err.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=err,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, headers, body = http_get(f"http://127.0.0.1:{port}/healthz/")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "err.log").read_text()
                time.sleep(0.2)
        # The load balancer's probe: by address (not an allowed host), plain HTTP, answered all the same.
        assert status == 200, body
        assert json.loads(body)["checks"] == {"database": "ok", "broker": "ok"}
        # A refused POST (no CSRF cookie) is logged by Django with the request, whose text has the query string.
        status, headers, _ = http_post(
            f"http://127.0.0.1:{port}/track/?id={ID_NUMBER}&mobile={MOBILE}",
            {"Host": "portal.example.test", "X-Request-ID": "lb-req-0001"},
        )
        assert status == 403
        assert headers["X-Request-ID"] == "lb-req-0001"
    finally:
        server.terminate()
        server.wait(timeout=30)
        out.close()
        err.close()
    access = [json.loads(line) for line in (tmp_path / "out.log").read_text().splitlines() if line.startswith("{")]
    errors = [json.loads(line) for line in (tmp_path / "err.log").read_text().splitlines() if line.startswith("{")]
    everything = (tmp_path / "out.log").read_text() + (tmp_path / "err.log").read_text()
    assert ID_NUMBER not in everything and MOBILE not in everything
    line = next(entry for entry in access if "POST /track/" in entry["message"])
    assert line["logger"] == "gunicorn.access" and line["level"] == "INFO"
    assert "request_id=lb-req-0001" in line["message"]
    assert "4101**********123X" in line["message"] and "138****5678" in line["message"]
    refused = next(entry for entry in errors if entry["logger"] == "django.security.csrf")
    assert refused["request_id"] == "lb-req-0001"
    assert refused["status_code"] == 403
    assert "4101**********123X" in refused["request"] and "138****5678" in refused["request"]


# --- /healthz/ ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_is_answered_for_any_host_and_before_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["portal.example.test"]
    response = client.get("/healthz/", HTTP_HOST="10.0.3.17:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}, "failed": []}
    assert "no-store" in response["Cache-Control"]
    # Every other page still gets the redirect and the host check.
    assert client.get("/track/", HTTP_HOST="portal.example.test").status_code == 301


@pytest.mark.django_db
def test_healthz_names_an_unreachable_broker_and_answers_quickly(client, settings):
    with socket.socket() as sock:  # a port nobody listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    started = time.monotonic()
    response = client.get("/healthz/")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert response.json()["checks"] == {"database": "ok", "broker": "error"}


def test_healthz_names_an_unreachable_database(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = "from django.test import Client; r = Client().get('/healthz/'); print(r.status_code, r.content.decode())"
    started = time.monotonic()
    result = run_manage(
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        code,
        DATABASE_URL=f"postgres://portal@127.0.0.1:{port}/portal",
        DATABASE_CONNECT_TIMEOUT="1",
        LOG_FORMAT="json",
    )
    assert time.monotonic() - started < 30
    status, _, body = result.stdout.strip().splitlines()[-1].partition(" ")
    assert status == "503", result.stdout + result.stderr
    assert json.loads(body)["failed"] == ["database"]
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(entry["message"].startswith("healthz: database: OperationalError") for entry in logged)


# --- database connections -----------------------------------------------------------------------------------


def test_persistent_connections_with_health_checks_from_the_environment(tmp_path):
    code = "from django.db import connection as c; print(c.settings_dict['CONN_MAX_AGE'], c.settings_dict['CONN_HEALTH_CHECKS'], c.settings_dict['OPTIONS'].get('connect_timeout'))"
    url = "postgres://portal@db.internal:5432/portal"
    result = run_manage(tmp_path, "shell", "--no-imports", "-c", code, DATABASE_URL=url, CONN_MAX_AGE="300")
    assert result.stdout.split()[-3:] == ["300", "True", "3"], result.stderr
    result = run_manage(tmp_path, "shell", "--no-imports", "-c", code, DATABASE_URL=url)
    assert result.stdout.split()[-3:] == ["60", "True", "3"], result.stderr


# --- request ids --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_without_an_id_gets_a_fresh_one(client):
    first = client.get("/track/")["X-Request-ID"]
    second = client.get("/track/")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("6f1c2a4e-9b1d-4c55-8f3e-0d2b7c9a1e44", True),  # a UUID from the load balancer
        ("nginx-7f3a9c1d2e4b", True),
        ("short", False),
        ("has space in it", False),
        ('"><script>alert(1)</script>', False),
        ("x" * 101, False),
        ("id=1; other", False),
    ],
)
def test_an_incoming_request_id_is_kept_only_when_it_is_a_safe_token(client, incoming, kept):
    returned = client.get("/track/", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"]
    assert (returned == incoming) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", returned)
    assert accept_request_id(incoming) == incoming if kept else accept_request_id(incoming) != incoming


@pytest.fixture
def log_output():
    """What the configured console handler (settings.LOGGING) writes, captured for one test."""
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, RedactFilter) for f in h.filters))
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(old)


def parse_lines(text):
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
        elif line.strip():
            lines.append({"message": line})
    return lines


@pytest.mark.django_db
def test_log_lines_of_a_request_carry_its_id(client, log_output):
    response = client.get(f"/no-such-page/{ID_NUMBER}/", HTTP_X_REQUEST_ID="trace-abc-123456")
    assert response.status_code == 404
    text = log_output.getvalue()
    assert "trace-abc-123456" in text
    assert ID_NUMBER not in text
    assert "4101**********123X" in text
    assert request_id_var.get() == ""  # reset after the request


@pytest.mark.django_db
def test_a_task_queued_during_a_request_carries_its_id_into_the_worker(log_output):
    headers_seen = []

    def on_publish(headers=None, **kwargs):
        headers_seen.append(dict(headers))

    before_task_publish.connect(on_publish, weak=False)
    token = request_id_var.set("web-req-778899")
    try:
        celery_app.send_task("portal.cases.tasks.sweep_deadlines")
    finally:
        request_id_var.reset(token)
        before_task_publish.disconnect(on_publish)
        with celery_app.connection_for_read() as conn:
            conn.default_channel.queue_purge("default")
    assert headers_seen[0]["portal_request_id"] == "web-req-778899"

    # The worker side: the header becomes the task's request id for every line it logs.
    from portal.workdays.tasks import check_calendar_years as task

    seen_ids = []

    def inside(**kwargs):
        seen_ids.append(request_id_var.get())
        logging.getLogger("portal.test").warning("inside the task for %s", MOBILE)

    task_prerun.connect(inside, weak=False)  # connected after portal.celery's receiver: runs after it
    try:
        task.apply(headers={"portal_request_id": "web-req-778899"})
    finally:
        task_prerun.disconnect(inside)
    assert seen_ids == ["web-req-778899"]
    assert request_id_var.get() == ""  # unbound after the task
    line = next(line for line in log_output.getvalue().splitlines() if "inside the task" in line)
    assert "138****5678" in line and MOBILE not in line
    assert "web-req-778899" in line


# --- redaction ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"id {ID_NUMBER} ok", "id 4101**********123X ok"),
        (f"id {ID_NUMBER.lower()}", "id 4101**********123x"),
        (f"身份证号{ID_NUMBER_2}已存在", "身份证号4101**********0023已存在"),
        ("old 15-digit 410105850312123", "old 15-digit 4101*******2123"),
        (f"sms to {MOBILE}", "sms to 138****5678"),
        ("sms to +8613812345678.", "sms to 138****5678."),
        ("call 0086 138 1234 5678", "call 138****5678"),
        ("call 138-1234-5678!", "call 138****5678!"),
        ("tel=19912345678&x", "tel=199****5678&x"),
        # Not a person's number: left alone.
        ("sha256 3f9a13812345678b0c", "sha256 3f9a13812345678b0c"),
        ("epoch ms 1713812345678", "epoch ms 1713812345678"),
        (
            "case NCR-20261124-00042, code 7K3M-9QXF-2B8D-1HZP-4R6T",
            "case NCR-20261124-00042, code 7K3M-9QXF-2B8D-1HZP-4R6T",
        ),
        ("landline 0371-65551234", "landline 0371-65551234"),
        ("12812345678 is no mobile prefix", "12812345678 is no mobile prefix"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


def test_every_part_of_a_log_record_is_redacted(log_output):
    logger = logging.getLogger("portal.test.redaction")
    try:
        raise ValueError(f"duplicate key value violates unique constraint: Key (id_number)=({ID_NUMBER}) exists")
    except ValueError:
        logger.exception(
            "registration of %s with mobile %s failed",
            ID_NUMBER_2,
            f"+86{MOBILE}",
            extra={"mobile": MOBILE, "form": {"id_number": ID_NUMBER, "tries": 3}, "numbers": [MOBILE]},
        )
    logging.getLogger("django.request").warning("Not Found: /x/%s/", ID_NUMBER)  # Django's own loggers too
    logging.getLogger("celery.app.trace").info("Task succeeded: %r", {"to": MOBILE})
    logger.info({"event": "dict message", "mobile": MOBILE})
    text = log_output.getvalue()
    for raw in (ID_NUMBER, ID_NUMBER_2, MOBILE):
        assert raw not in text
    assert text.count("4101**********123X") >= 3  # the message argument's twin, the traceback, the extra dict
    assert "138****5678" in text
    lines = parse_lines(text)
    assert len(lines) >= 4
    if django_settings.LOG_FORMAT == "json":
        first = lines[0]
        assert first["level"] == "ERROR" and first["logger"] == "portal.test.redaction"
        assert first["message"] == "registration of 4101**********0023 with mobile 138****5678 failed"
        assert "Traceback" in first["exc_info"] and "4101**********123X" in first["exc_info"]
        assert first["mobile"] == "138****5678" and first["form"] == {"id_number": "4101**********123X", "tries": 3}


def test_the_json_lines_are_one_object_each_with_time_level_logger_and_message():
    from portal.logging import JsonFormatter, RequestIdFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"portal.test.json.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id_var.set("req-json-000001")
    try:
        logger.warning('quote " and newline\nin %s, 中文 %s', "a message", MOBILE)
    finally:
        request_id_var.reset(token)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["message"] == 'quote " and newline\nin a message, 中文 138****5678'
    assert entry["level"] == "WARNING" and entry["request_id"] == "req-json-000001"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", entry["time"])


# --- storage: S3-compatible object store ------------------------------------------------------------------------

S3_SETTINGS = {
    "AWS_STORAGE_BUCKET_NAME": "henan-portal-private",
    "AWS_S3_REGION_NAME": "cn-north-1",
    "AWS_ACCESS_KEY_ID": "test-access-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key",
    "AWS_LOCATION": "private",
    "AWS_DEFAULT_ACL": "private",
    "AWS_QUERYSTRING_AUTH": True,
    "AWS_S3_FILE_OVERWRITE": True,
    "AWS_S3_SIGNATURE_VERSION": "s3v4",
    "AWS_S3_OBJECT_PARAMETERS": {"ServerSideEncryption": "AES256"},
}


@pytest.fixture
def s3_storage():
    from portal.documents.storage import _s3_storage_class

    with mock_aws(), override_settings(**S3_SETTINGS):
        client = boto3.client(
            "s3", region_name="cn-north-1", aws_access_key_id="test-access-key", aws_secret_access_key="test-secret-key"
        )
        client.create_bucket(
            Bucket="henan-portal-private", CreateBucketConfiguration={"LocationConstraint": "cn-north-1"}
        )
        yield _s3_storage_class()(), client


def test_s3_storage_keeps_objects_private_under_the_prefix(s3_storage):
    storage, client = s3_storage
    name = storage.save("documents/2026/11/abc.pdf", ContentFile(b"%PDF-1.7 scanned id card"))
    assert name == "documents/2026/11/abc.pdf"
    obj = client.get_object(Bucket="henan-portal-private", Key="private/documents/2026/11/abc.pdf")
    assert obj["Body"].read() == b"%PDF-1.7 scanned id card"
    assert obj["ServerSideEncryption"] == "AES256"
    grants = client.get_object_acl(Bucket="henan-portal-private", Key="private/documents/2026/11/abc.pdf")["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)  # no AllUsers, no AuthenticatedUsers
    with storage.open(name, "rb") as fh:
        assert fh.read() == b"%PDF-1.7 scanned id card"
    with pytest.raises(ValueError, match="no URL"):
        storage.url(name)
    storage.delete(name)
    assert not storage.exists(name)


@pytest.mark.django_db
def test_s3_storage_writes_an_issued_document_only_for_the_claim_that_wins(s3_storage):
    storage, client = s3_storage
    assert storage.save_if_claimed("issued/LOSE.pdf", b"%PDF-loser", claim=lambda: 0) is False
    assert "Contents" not in client.list_objects_v2(Bucket="henan-portal-private", Prefix="private/issued/")

    def failing_claim():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        storage.save_if_claimed("issued/FAIL.pdf", b"%PDF-x", claim=failing_claim)
    assert storage.save_if_claimed("issued/WIN.pdf", b"%PDF-winner", claim=lambda: 1) is True
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="henan-portal-private", Prefix="private/")["Contents"]]
    assert keys == ["private/issued/WIN.pdf"]
    with storage.open("issued/WIN.pdf", "rb") as fh:
        assert fh.read() == b"%PDF-winner"


def test_the_s3_storage_deconstructs_like_the_file_system_one_so_migrations_do_not_change(s3_storage):
    from portal.documents.storage import PrivateStorage

    storage, _ = s3_storage
    assert (
        storage.deconstruct() == PrivateStorage().deconstruct() == ("portal.documents.storage.PrivateStorage", (), {})
    )


def test_storage_backend_switch(tmp_path):
    code = (
        "from portal.documents.storage import private_storage as s; print(type(s).__name__, s.default_acl, s.location)"
    )
    result = run_manage(
        tmp_path, "shell", "--no-imports", "-c", code, STORAGE_BACKEND="s3", AWS_STORAGE_BUCKET_NAME="henan-private"
    )
    assert result.stdout.split()[-3:] == ["PrivateS3Storage", "private", "private"], result.stderr
    fs_code = "from portal.documents.storage import private_storage as s; print(type(s).__name__, s.location)"
    result = run_manage(tmp_path, "shell", "--no-imports", "-c", fs_code)
    assert result.stdout.split()[-2:] == ["PrivateStorage", str(tmp_path / "media" / "private")], result.stderr
    missing = run_manage(tmp_path, "check", STORAGE_BACKEND="s3")
    assert missing.returncode != 0 and "AWS_STORAGE_BUCKET_NAME" in missing.stderr
    wrong = run_manage(tmp_path, "check", STORAGE_BACKEND="ftp")
    assert wrong.returncode != 0 and "STORAGE_BACKEND" in wrong.stderr


def test_check_deploy_is_clean_with_s3_storage_and_json_logs(tmp_path):
    result = run_manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **production_env(tmp_path),
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME="henan-private",
        AWS_S3_ENDPOINT_URL="https://objects.example.test",
        DATABASE_URL="postgres://portal@db.internal:5432/portal",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
