"""Benchmark settings: the production settings plus a minimal baseline view (bench/urls.py)."""

import os

os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # a log line per request or transition is noise here

from portal.settings import *  # noqa: E402,F403

ROOT_URLCONF = "bench.urls"
# The rate limit still runs (its cache round trip is part of the cost) but never trips during a load run.
VERIFY_RATE_LIMIT = (10**9, 60)
# Staff pages are measured signed in with force_login: the second factor is tested elsewhere (tests/portal).
STAFF_MFA_REQUIRED = False
# Benchmarks run with DEBUG off on one machine: no public address, SMS kept in the outbox, no mail relay. The
# production checks (portal/checks.py) that would refuse this stand aside here (and only here).
SILENCED_SYSTEM_CHECKS = [
    *SILENCED_SYSTEM_CHECKS,  # noqa: F405
    "portal.E001",
    "portal.E002",
    "portal.E005",
    "portal.E007",
    "portal.E008",
    "portal.E017",  # signatures without a timestamp authority: the benchmarks measure the portal, not a TSA
]
# A benchmark that runs a worker with beat (bench/verify_load.py) names the beat jobs it needs: the others (the
# deadline sweep, the requeue sweeps) would otherwise run over the million-row tables in the middle of a measurement.
if os.environ.get("BENCH_BEAT_TASKS"):
    _keep = set(os.environ["BENCH_BEAT_TASKS"].split(","))
    CELERY_BEAT_SCHEDULE = {name: job for name, job in CELERY_BEAT_SCHEDULE.items() if name in _keep}  # noqa: F405
