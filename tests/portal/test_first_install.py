"""Steps of docs/deploy.md#first-production-install that only a production-like process shows."""

import re

from tests.portal.production import ROOT, production_env, run_manage


def test_the_first_signing_certificate_can_be_installed_before_the_signing_files_exist(tmp_path):
    """rotate_signing_key installs the files whose absence the production checks report: it must not wait for them."""
    env = production_env(tmp_path)
    env.update(SILENCED_SYSTEM_CHECKS="portal.E009")
    for name in ("key.pem", "cert.pem", "chain.pem", "roots.pem", "history.pem"):
        (tmp_path / "signing" / name).unlink()
    check = run_manage(tmp_path, "check", **env)
    assert check.returncode != 0 and "portal.E003" in check.stderr
    done = run_manage(
        tmp_path,
        "rotate_signing_key",
        *("--key", str(tmp_path / "ca" / "new.key.pem"), "--cert", str(tmp_path / "ca" / "new.cert.pem")),
        *("--chain", str(tmp_path / "ca" / "chain.pem"), "--roots", str(tmp_path / "ca" / "roots.pem")),
        **env,
    )
    # It reached its own reading of the CA's files (missing here), past the checks that would have stopped it.
    assert done.returncode != 0
    assert "portal.E003" not in done.stderr and "cannot read" in done.stderr and "new.key.pem" in done.stderr


def test_the_web_unit_starts_gunicorn_as_deploy_release_needs_it():
    """USR2 re-executes the master's interpreter and script in its directory: all three through the `current` link,
    and the pid file the script reads (portal.env) is the one systemd follows."""
    unit = (ROOT / "deploy" / "systemd" / "portal-web.service").read_text()
    current = "/srv/portal/current"
    assert f"ExecStart={current}/.venv/bin/python {current}/.venv/bin/gunicorn --config gunicorn.conf.py\n" in unit
    assert f"WorkingDirectory={current}\n" in unit and f"Environment=PWD={current}\n" in unit
    pidfile = re.search(r"^PIDFile=(\S+)$", unit, re.M).group(1)
    runbook = (ROOT / "docs" / "deploy.md").read_text().split("\n## First production install\n")[1].split("\n## ")[0]
    assert f"\nGUNICORN_PIDFILE={pidfile}\n" in runbook
    for queue in ("pdf", "notify", "default"):
        assert f"portal-worker@{queue}" in runbook
