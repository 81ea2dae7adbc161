"""deploy/release.sh: a release on one machine while gunicorn serves, with no failed request (docs/deploy.md#2)."""

import http.client
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.portal.production import ROOT, free_port, production_env, subprocess_env

SCRIPT = ROOT / "deploy" / "release.sh"
HOST = "portal.example.test"
# The code change the second release brings: a key more in /healthz/'s answer (Python, not a template).
HEALTHZ = 'return JsonResponse(\n        {"status": "error" if failed else "ok",'
MARKED = 'return JsonResponse(\n        {"release": "two", "status": "error" if failed else "ok",'

# Minutes, most of them collectstatic compressing the fonts: in the services tier (.ci/run), not in every `make test`.
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not shutil.which("git") or not shutil.which("pgrep"), reason="needs git and pgrep"),
]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def source_repository(path: Path) -> Path:
    """A repository holding the work tree as it is (committed or not), as the operator's repository would."""
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        source = ROOT / name
        if source.is_file():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, path / name)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm", "release one")
    return path


def commit(repo: Path, message: str, edit) -> None:
    edit(repo)
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qam", message)


def release(home: Path, repo: Path, env: dict, ref: str = "main") -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), "--home", str(home), "--repo", str(repo), "--ref", ref, "--venv", str(ROOT / ".venv")],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )


class Load:
    """Clients asking for pages in a loop (bounded in count and time) on loopback; every answer must be a 200."""

    def __init__(self, port: int, clients: int = 4, limit: int = 20000, seconds: float = 300.0):
        self.port, self.limit, self.until = port, limit, time.monotonic() + seconds
        self.sent = self.failed = 0
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(clients)]

    def run(self, i: int) -> None:
        path = ("/healthz/", "/")[i % 2]  # the health check and a rendered page (database, templates, i18n)
        while not self.stop.is_set() and self.sent < self.limit and time.monotonic() < self.until:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                connection.request("GET", path, headers={"Host": HOST, "X-Forwarded-Proto": "https"})
                response = connection.getresponse()
                response.read()
                connection.close()
                error = None if response.status == 200 else f"{path}: {response.status}"
            except OSError as exc:
                error = f"{path}: {type(exc).__name__}: {exc}"
            with self.lock:
                self.sent += 1
                if error:
                    self.failed += 1
                    self.failures.append(error)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


def healthz(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/healthz/")
    return connection.getresponse().read().decode()


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_a_release_under_load_fails_no_request_and_a_broken_one_changes_nothing(tmp_path):
    home, repo, var = tmp_path / "portal", tmp_path / "repo", tmp_path / "var"
    home.mkdir(), repo.mkdir(), var.mkdir()
    source_repository(repo)
    port = free_port()
    # The machine's environment: production settings, the embedded broker (no Redis here), SQLite in VAR_DIR.
    production = {k: v for k, v in production_env(var).items() if k != "REDIS_URL"}
    production.update(
        SILENCED_SYSTEM_CHECKS="portal.E009",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_PIDFILE=str(home / "gunicorn.pid"),
        WEB_CONCURRENCY="2",
        GUNICORN_GRACEFUL_TIMEOUT="10",
    )
    env = subprocess_env(var, **production)
    (home / "portal.env").write_text(
        "".join(f"{k}={v}\n" for k, v in env.items() if k in production or k in ("VAR_DIR", "DATABASE_URL"))
    )
    script_env = {k: v for k, v in env.items() if k not in production}  # what the operator's shell has

    first = release(home, repo, script_env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "no gunicorn running" in first.stdout
    one = (home / "current").resolve()

    current = home / "current"
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - the server's whole life
    server = subprocess.Popen(
        [str(current / ".venv/bin/python"), str(current / ".venv/bin/gunicorn"), "--config", "gunicorn.conf.py"],
        cwd=current,
        env={**env, "PWD": str(current)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # Reap the first master when it exits, as systemd would (the script takes a zombie for gone anyway).
    threading.Thread(target=server.wait, daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert '"status": "ok"' in healthz(port)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.3)
        assert '"release"' not in healthz(port)
        old_master = server.pid

        commit(repo, "release two", lambda r: (r / "portal/views.py").write_text(
            (r / "portal/views.py").read_text().replace(HEALTHZ, MARKED)))  # fmt: skip
        assert MARKED in (repo / "portal/views.py").read_text()
        with Load(port) as load:
            time.sleep(1)
            started = time.monotonic()
            second = release(home, repo, script_env)
            took = time.monotonic() - started
            time.sleep(1)
        print(f"release under load: {took:.1f} s, {load.sent} requests, {load.failed} failed")
        print(second.stdout)
        assert second.returncode == 0, second.stdout + second.stderr + (tmp_path / "gunicorn.log").read_text()[-3000:]
        assert load.failed == 0, load.failures[:10]
        assert load.sent > 50
        two = (home / "current").resolve()
        assert two != one and two.parent == home / "releases"

        # The new master runs the new release's Python code, and the old master has gone.
        assert '"release": "two"' in healthz(port)
        new_master = int((home / "gunicorn.pid").read_text())
        assert new_master != old_master and server.poll() is not None
        assert Path(f"/proc/{new_master}/cwd").resolve() == two
        assert len(children(new_master)) == 2

        # A release that cannot start (an import error) stops before the switch: the second release goes on serving.
        commit(repo, "broken", lambda r: (r / "portal/urls.py").write_text("import no_such_module\n"))
        with Load(port, seconds=120) as load:
            broken = release(home, repo, script_env)
        assert broken.returncode != 0 and "no_such_module" in broken.stderr
        assert (home / "current").resolve() == two
        assert load.failed == 0, load.failures[:10]
        assert int((home / "gunicorn.pid").read_text()) == new_master and '"release": "two"' in healthz(port)
    finally:
        for pid_file in (home / "gunicorn.pid", home / "gunicorn.pid.2"):
            try:
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        if server.poll() is None:
            server.terminate()
        server.wait(timeout=30)
        log.close()
