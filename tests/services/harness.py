"""Real processes for the services tier: Celery workers, a gunicorn web server, and private Redis and PostgreSQL
servers that a test may stop, pause, empty or restart without disturbing anyone else's (the machine's shared ones
are never touched)."""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from http.cookiejar import Cookie, CookieJar
from pathlib import Path
from urllib.parse import quote, urlencode

import kombu.pools
from django.db import connection

from portal import celery_app

BASE_DIR = Path(__file__).resolve().parent.parent.parent
BIN = BASE_DIR / ".venv" / "bin"
CELERY = BIN / "celery"
GUNICORN = BIN / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def poll(predicate, timeout, interval=0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def database_url(db=None) -> str:
    """The URL of the TEST database this run created (or of the settings dict `db`), not the configured one."""
    db = db or connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(settings, **overrides) -> dict:
    """The environment of a web or worker process of this test: production settings, the test's services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.CELERY_BROKER_URL,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        SIGNING_KEY_FILE=str(settings.SIGNING_KEY_FILE),
        SIGNING_CERT_FILE=str(settings.SIGNING_CERT_FILE),
        SIGNING_CHAIN_FILE=str(settings.SIGNING_CHAIN_FILE),
        SIGNING_TRUST_ROOTS_FILE=str(settings.SIGNING_TRUST_ROOTS_FILE),
        SIGNING_HISTORY_FILE=str(settings.SIGNING_HISTORY_FILE),
        TSA_URL=settings.TSA_URL,
        # The test process's key: sessions it creates (force_login) are valid in the web server.
        SECRET_KEY=settings.SECRET_KEY,
        SITE_URL=settings.SITE_URL,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DEBUG="0",
        LOG_FORMAT="plain",
        SMS_BACKEND="database",
        # Production settings with this tier's stand-ins, which the production checks (portal/checks.py) would
        # refuse: an http:// SITE_URL, SMS kept in the outbox, e-mail to files or to no relay at all.
        SILENCED_SYSTEM_CHECKS="portal.E001,portal.E002,portal.E005,portal.E007,portal.E008"
        + ("" if settings.TSA_URL else ",portal.E017"),
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


class _Process:
    """A child in its own process group, its output in a log file."""

    def __init__(self, command, env, log_path):
        self.log_path = Path(log_path)
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self, tail=4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]

    def kill(self):
        """SIGKILL to the whole group: the main process and every child doing the work."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


class Worker(_Process):
    """`celery -A portal worker` consuming `queue` (comma-separated queues)."""

    def __init__(self, queue, env, log_path, concurrency=1):
        command = [
            str(CELERY),
            "-A",
            "portal",
            "worker",
            "-Q",
            queue,
            "-c",
            str(concurrency),
            "-P",
            "prefork",
            "-l",
            "info",
            "-n",
            f"ncr-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        super().__init__(command, env, log_path)

    def wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b"ready." in self.log_path.read_bytes():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("worker did not start:\n" + self.output(3000))


class WebServer(_Process):
    """gunicorn with the project's gunicorn.conf.py on a free port.

    The one difference from production: static files are served by name (no `collectstatic` manifest), through
    tests/services/web_settings.py; every other setting is portal.settings from the environment given.
    """

    def __init__(self, env, log_path, workers=2):
        self.port = free_port()
        env = {
            **env,
            "DJANGO_SETTINGS_MODULE": "tests.services.web_settings",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
        }
        super().__init__([str(GUNICORN), "-c", "gunicorn.conf.py"], env, log_path)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout=60.0):
        """Until the server answers at all (the health check may say 503 while a test holds a service down)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if Browser(self.url).get("/healthz/", timeout=5).status:
                return
            time.sleep(0.2)
        raise AssertionError("gunicorn did not start:\n" + self.output(3000))

    def browser(self, session_key: str = "", language="en") -> "Browser":
        """A browser of this server, signed in with a session the test made (Client.force_login) if one is given."""
        cookies = {"portal_language": language}
        if session_key:
            cookies["sessionid"] = session_key
        return Browser(self.url, cookies)


class Response:
    def __init__(self, status, body=b"", headers=None, elapsed=0.0, error=""):
        self.status, self.body, self.headers, self.elapsed, self.error = status, body, headers or {}, elapsed, error

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def __repr__(self):
        return f"<Response {self.status} {self.elapsed:.2f}s {self.error}>"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Browser:
    """A browser of a WebServer (urllib, a cookie jar, redirects not followed): status 0 when nothing answered."""

    def __init__(self, base_url, cookies=None):
        self.base_url = base_url
        self.jar = CookieJar()
        for name, value in (cookies or {}).items():
            self.jar.set_cookie(
                Cookie(0, name, value, None, False, "127.0.0.1", False, False, "/", True, False, None, False, None,
                       None, {})
            )  # fmt: skip
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def cookie(self, name) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    def request(self, method, path, data=None, timeout=10.0) -> Response:
        body = urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, method=method)  # noqa: S310 - http://127.0.0.1
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=timeout) as answer:
                return Response(answer.status, answer.read(), dict(answer.headers), time.monotonic() - started)
        except urllib.error.HTTPError as exc:
            with exc:
                return Response(exc.code, exc.read(), dict(exc.headers), time.monotonic() - started)
        except (urllib.error.URLError, OSError) as exc:
            return Response(0, elapsed=time.monotonic() - started, error=repr(exc))

    def get(self, path, timeout=10.0) -> Response:
        return self.request("GET", path, timeout=timeout)

    def form_token(self, path, timeout=10.0) -> str:
        """Open the form at `path` and return its CSRF token (the cookie is kept in the jar)."""
        page = self.get(path, timeout=timeout)
        assert page.status == 200, (page, page.text[-2000:])
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, "no CSRF token in the page"
        return match.group(1)

    def post_form(self, path, data, token, timeout=10.0) -> Response:
        return self.request("POST", path, {**data, "csrfmiddlewaretoken": token}, timeout=timeout)


class RedisServer:
    """A redis-server of this test on a free port, without persistence: a restart empties it like a FLUSHALL."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process = None
        self.start()

    def url(self, db=0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_timeout=5)

    def start(self):
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - the child holds it
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

        def answers():
            with contextlib.suppress(Exception):
                return self.client().ping()

        assert poll(answers, timeout=20, interval=0.05), "redis-server did not start"

    def stop(self):
        """Stopped: connections are refused."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def pause(self):
        """Hung: connections are accepted (by the kernel) and never answered."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def restart(self):
        self.stop()
        self.start()

    def queue_length(self, queue, db=0) -> int:
        import redis

        return redis.Redis(port=self.port, db=db, socket_timeout=5).llen(queue)


@contextlib.contextmanager
def publishing_to(url):
    """Point this process's Celery app at the broker `url` (its producer pools are dropped before and after)."""

    def drop_pools():
        # kombu keeps one pool per broker address in a process-wide registry, and celery_app._pool is that entry:
        # closing it alone would leave a closed pool registered for the address, and every later publish to it
        # in this process would fail with "Acquire on closed pool". reset() closes the pools and empties the
        # registry, so the next publish opens a fresh pool for whichever broker is configured.
        kombu.pools.reset()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    old = celery_app.conf.broker_url
    drop_pools()
    celery_app.conf.broker_url = url
    try:
        yield
    finally:
        drop_pools()
        celery_app.conf.broker_url = old


class PostgresCluster:
    """A PostgreSQL cluster of this test (initdb, trust authentication, no fsync) on a free port.

    As root, the cluster runs as the `postgres` user, in a directory of its own under the system temp dir.
    """

    def __init__(self):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
        assert bins, "no PostgreSQL server binaries under /usr/lib/postgresql"
        self.bin = bins[-1].parent
        self.directory = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            self.user = "postgres"
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.start()

    def _run(self, tool, *args, check=True):
        return subprocess.run(
            [str(self.bin / tool), *map(str, args)],
            user=self.user,
            cwd=self.directory,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def _options(self):
        return (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.directory}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )

    def start(self):
        self._run("pg_ctl", "-D", self.data, "-o", self._options(), "-l", self.directory / "server.log", "-w", "start")

    def restart(self):
        """A fast restart: every session is terminated (its transaction rolled back), then the server starts again."""
        self._run(
            "pg_ctl", "-D", self.data, "-m", "fast", "-o", self._options(), "-l", self.directory / "server.log", "-w",
            "restart",
        )  # fmt: skip

    def stop(self):
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)

    def settings_dict(self, base: dict, name="portal") -> dict:
        return {**base, "HOST": "127.0.0.1", "PORT": str(self.port), "NAME": name, "USER": "postgres", "PASSWORD": ""}

    def copy_database(self, source: dict, name="portal"):
        """Create `name` as a copy of the database `source` (a settings dict): the migrated schema and its rows."""
        self._run("createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", name)
        env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
        dump = subprocess.run(
            [
                "pg_dump",
                "--no-owner",
                "--no-privileges",
                "-h",
                source["HOST"] or "127.0.0.1",
                "-p",
                str(source["PORT"] or 5432),
                "-U",
                source["USER"] or "postgres",
                source["NAME"],
            ],
            capture_output=True,
            env=env,
            check=True,
            timeout=120,
        )
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            input=dump.stdout,
            capture_output=True,
            check=True,
            timeout=120,
        )
