"""The scanners of `make scan`: bandit's configuration still catches what matters, and pip-audit never passes
silently, whether its vulnerability service is unreachable or reports an advisory."""

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIP_AUDIT = [sys.executable, str(ROOT / ".ci" / "pip_audit.py")]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command, **env):
    return subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False
    )


def test_bandit_with_the_project_configuration_flags_insecure_code(tmp_path):
    # Nothing the application must never do is skipped for the whole code base: a weak token, a shell command.
    module = tmp_path / "portal_like" / "tokens.py"
    module.parent.mkdir()
    module.write_text(
        "import random\nimport subprocess\n\n\n"
        "def token():\n    return str(random.random())\n\n\n"
        "def run(name):\n    subprocess.call('ls ' + name, shell=True)\n"
    )
    result = run([sys.executable, "-m", "bandit", "-c", "pyproject.toml", "-r", str(module.parent), "-f", "json"])
    assert result.returncode == 1, result.stderr
    found = {issue["test_id"] for issue in json.loads(result.stdout)["results"]}
    assert {"B311", "B602"} <= found


def test_pip_audit_says_not_run_and_fails_when_no_service_answers(tmp_path):
    unreachable = f"http://127.0.0.1:{closed_port()}/v1/query"
    result = run(PIP_AUDIT, PIP_AUDIT_SERVICES="osv", PIP_AUDIT_OSV_URL=unreachable)
    assert result.returncode == 3
    assert "pip-audit: NOT RUN" in result.stdout
    assert "has NOT been checked" in result.stdout
    assert "No known vulnerabilities" not in result.stdout + result.stderr

    # CI on a machine without the service: still said loudly, not a failure there.
    warned = run(PIP_AUDIT, PIP_AUDIT_SERVICES="osv", PIP_AUDIT_OSV_URL=unreachable, PIP_AUDIT_UNREACHABLE="warn")
    assert warned.returncode == 0
    assert "pip-audit: NOT RUN" in warned.stdout


class FakeOSV(BaseHTTPRequestHandler):
    """An OSV-compatible service on this machine that knows one advisory, for the pinned Django."""

    def do_POST(self):
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        vulns = []
        if query.get("package", {}).get("name", "").lower() == "django":
            vulns = [
                {
                    "id": "GHSA-test-0000-0001",
                    "aliases": ["CVE-2099-0001"],
                    "summary": "Advisory made up for this test",
                    "affected": [
                        {
                            "package": {"name": "django", "ecosystem": "PyPI"},
                            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0"}]}],
                        }
                    ],
                }
            ]
        body = json.dumps({"vulns": vulns} if vulns else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_osv():
    server = HTTPServer(("127.0.0.1", 0), FakeOSV)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/query"
    server.shutdown()
    server.server_close()


def test_pip_audit_fails_on_a_known_vulnerability(tmp_path, fake_osv):
    # Resolving the requirements takes pip and the package index (as `make scan` does); one pin keeps it short.
    django = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("Django=="))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(django + "\n")
    result = run([*PIP_AUDIT, str(requirements)], PIP_AUDIT_SERVICES="osv", PIP_AUDIT_OSV_URL=fake_osv)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CVE-2099-0001" in result.stdout or "GHSA-test-0000-0001" in result.stdout
