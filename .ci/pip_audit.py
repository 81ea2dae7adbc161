"""`make scan`: pip-audit on requirements.txt, or a loud NOT RUN when no vulnerability service can be reached.

pip-audit asks a web service about each pinned release: PyPI's per-release JSON API (its default) or OSV. Without
either it reports every package as "could not be audited" and, unless --strict, ends with "No known
vulnerabilities found" and status 0: a silent pass. So this script probes both services first, runs pip-audit
--strict against the first that answers (any finding or unaudited package fails), and otherwise says NOT RUN and
fails, unless PIP_AUDIT_UNREACHABLE=warn (CI on machines that reach the package index but not these APIs).

Accepted advisories are listed in pyproject.toml under [tool.portal.pip-audit], each with its reason.

Environment: PIP_AUDIT_SERVICES (default "pypi,osv": which to try, in order), PIP_AUDIT_OSV_URL (an OSV-compatible
mirror inside a closed network, default the public api.osv.dev), PIP_AUDIT_UNREACHABLE (fail or warn).
Argument: the requirements file (default requirements.txt).
"""

import json
import os
import re
import subprocess  # nosec B404  # runs pip-audit from this virtualenv with a fixed argument list
import sys
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 10
OSV_URL = os.environ.get("PIP_AUDIT_OSV_URL", "https://api.osv.dev/v1/query")


def pinned_django(requirements: Path) -> str:
    """A release that certainly exists, to ask each service about."""
    match = re.search(r"^django==(\S+)", requirements.read_text(), re.IGNORECASE | re.MULTILINE)
    if not match:
        sys.exit(f"{requirements} does not pin Django")
    return match.group(1)


def probe_pypi(version: str) -> str | None:
    """None when PyPI's per-release JSON API (with its `vulnerabilities` list) answers; else what went wrong."""
    url = f"https://pypi.org/pypi/django/{version}/json"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # nosec B310  # a fixed https URL
            return None if "vulnerabilities" in json.load(response) else f"{url}: no vulnerability data"
    except urllib.error.HTTPError as exc:
        return f"{url} answered HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return f"{url}: {exc}"


def probe_osv(version: str) -> str | None:
    url = OSV_URL
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        return f"{url}: not an http(s) URL"
    body = json.dumps({"package": {"name": "django", "ecosystem": "PyPI"}, "version": version}).encode()
    # The scheme is checked above: http(s) only, never file: or a custom one.
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310  # nosec B310
            json.load(response)
            return None
    except urllib.error.HTTPError as exc:
        return f"{url} answered HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return f"{url}: {exc}"


def accepted() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    entries = config.get("tool", {}).get("portal", {}).get("pip-audit", {}).get("ignore-vulns", [])
    for entry in entries:
        if not entry.get("id") or not entry.get("reason", "").strip():
            sys.exit(f"[tool.portal.pip-audit] ignore-vulns: every entry needs an id and a reason: {entry}")
    return entries


def main() -> int:
    requirements = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT / "requirements.txt"
    version = pinned_django(requirements)
    probes = {"pypi": probe_pypi, "osv": probe_osv}
    problems = {}
    for service in os.environ.get("PIP_AUDIT_SERVICES", "pypi,osv").split(","):
        problem = probes[service.strip()](version)
        if problem is None:
            command = [
                sys.executable,
                "-m",
                "pip_audit",
                "--requirement",
                str(requirements),
                "--vulnerability-service",
                service,
                "--osv-url",
                OSV_URL,
                "--strict",
                "--desc",
                "on",
                "--progress-spinner",
                "off",
            ]
            for entry in accepted():
                print(f"pip-audit: accepted {entry['id']}: {entry['reason']}")
                command += ["--ignore-vuln", entry["id"]]
            print(f"pip-audit: {requirements.name} against the {service} service", flush=True)
            # Fixed arguments: this interpreter, our requirements file and the ids from pyproject.toml.
            return subprocess.run(command, cwd=ROOT, check=False).returncode  # noqa: S603  # nosec B603
        problems[service] = problem

    mode = os.environ.get("PIP_AUDIT_UNREACHABLE", "fail")
    print("=" * 100)
    print("pip-audit: NOT RUN. No vulnerability service is reachable from this machine:")
    for service, problem in problems.items():
        print(f"  {service}: {problem}")
    print(f"{requirements.name} has NOT been checked against the advisory databases.")
    print("Run `make scan` on a machine that reaches pypi.org's JSON API or an OSV service (PIP_AUDIT_OSV_URL).")
    print("=" * 100, flush=True)
    if mode == "warn":
        print("pip-audit: PIP_AUDIT_UNREACHABLE=warn, so this is not a failure here.")
        return 0
    return 3


if __name__ == "__main__":
    sys.exit(main())
