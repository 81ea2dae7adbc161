"""gunicorn's configuration for the web processes (Procfile: `gunicorn -c gunicorn.conf.py portal.wsgi`).

Every value can be changed from the environment; docs/deploy.md says when to. The defaults suit a machine behind a
buffering reverse proxy (nginx or a cloud load balancer) that terminates TLS.
"""

import multiprocessing
import os


def _int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


wsgi_app = "portal.wsgi:application"
# Loopback unless told otherwise: the app port must be reachable only from the reverse proxy, never from the network
# (it trusts X-Forwarded-Proto from FORWARDED_ALLOW_IPS and serves /healthz/ to any host). A proxy on another machine:
# GUNICORN_BIND=10.0.3.17:8000 (this machine's private address, firewalled to the proxy), or a Unix socket
# (GUNICORN_BIND=unix:/run/portal/gunicorn.sock). PORT changes only the port of the default.
bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"

# Threaded workers (gthread): a few processes, each running several requests at once in threads. A request that
# waits (a password hash with Argon2, which computes outside Python's lock; the database; Redis; the mobile operator's
# identity gateway) holds one thread, not a whole process, so the short pages behind it are not queued behind it: with
# one request per process (sync workers), five registrations hashing at once left every other request waiting for a
# worker, and that wait was most of `make load`'s p95. Python runs one thread of a process at a time, so the
# processes give the cores: one per core plus one. WEB_CONCURRENCY is the usual name for the number of processes;
# GUNICORN_THREADS=1 gives sync workers again (one request per process). The proxy in front buffers slow clients, so
# a thread is never held by a slow phone. Every thread keeps one persistent database connection (CONN_MAX_AGE):
# machines × workers × threads must stay below PostgreSQL's max_connections (or go through PgBouncer).
workers = _int("WEB_CONCURRENCY", _int("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
threads = _int("GUNICORN_THREADS", 4)
# gthread, but a graceful stop answers every connection already accepted (portal/gunicorn_worker.py).
worker_class = "portal.gunicorn_worker.DrainingThreadWorker" if threads > 1 else "sync"

# A request that takes longer than this is killed (the worker is replaced) and logged; certificates are rendered
# by the Celery worker, never in a request, so nothing legitimate comes close.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)  # on SIGTERM: finish what is running, then exit
# Idle keep-alive connections (gthread only). The proxy must drop its idle connections to gunicorn sooner (nginx's
# upstream keepalive_timeout 4s, docs/nginx/portal.conf): a POST it sent on a connection gunicorn is closing at that
# moment would get a 502, which nginx does not retry.
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Load the application once in the master, then fork: workers share its memory pages and a broken release
# fails at start instead of in every worker. Nothing opens a database or Redis connection at import time.
# So the code a worker runs is the code the master loaded: a worker replaced after max_requests, or every worker
# after a HUP, is forked from the same master and runs the same (old) Python code, only re-reading templates and
# this file. New code needs a new master: USR2 (binary upgrade), which deploy/release.sh sends (docs/deploy.md#2).
preload_app = True
# Replace each worker after about 20 000 requests (±2000 at random, so they do not all restart at once): bounds the
# growth of any slow leak without a visible pause. This is not a way to deploy: see preload_app above.
max_requests = _int("GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 2000)
# The master's pid, for deploy/release.sh (USR2, then TERM to the old master) and systemd's PIDFile=. During a
# release the new master writes `<pidfile>.2` until the old one has gone.
pidfile = os.environ.get("GUNICORN_PIDFILE") or None

# The heartbeat file on a RAM disk: a worker is never reported dead because a disk was slow.
if os.path.isdir("/dev/shm"):  # noqa: S108 - a directory, not a file name we create  # nosec B108
    worker_tmp_dir = "/dev/shm"  # noqa: S108  # nosec B108

# Proxies whose X-Forwarded-* headers gunicorn believes (the scheme for wsgi.url_scheme). Django decides HTTPS
# itself from X-Forwarded-Proto (DJANGO_HTTPS) and the client address from TRUSTED_PROXY_COUNT.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
limit_request_line = 8190
limit_request_fields = 100

proc_name = "henan-portal"

# Logs: JSON lines on stderr like the application's, through the same redaction filter (an admin search for an
# ID number puts it in the query string). The access line carries the request id from the response header that
# portal.middleware.RequestIdMiddleware sets, so it joins up with the application's lines for the same request.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'
_log_format = os.environ.get("LOG_FORMAT", "json")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "portal.logging.RedactFilter"}},
    "formatters": {
        "json": {"()": "portal.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": _log_format if _log_format in ("json", "plain") else "json",
            "filters": ["redact"],
            "stream": "ext://sys.stderr",
        },
        "console": {
            "class": "logging.StreamHandler",
            "formatter": _log_format if _log_format in ("json", "plain") else "json",
            "filters": ["redact"],
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}
