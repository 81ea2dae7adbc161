"""Benchmark settings: the production settings plus a minimal baseline view (bench/urls.py)."""
import os

os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")

from portal.settings import *  # noqa: E402,F403

ROOT_URLCONF = "bench.urls"
# The rate limit still runs (its cache round trip is part of the cost) but never trips during a load run.
VERIFY_RATE_LIMIT = (10**9, 60)
