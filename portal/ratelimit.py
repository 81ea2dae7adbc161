"""A fixed-window rate limit per client address: one Redis round trip, or the Django cache without Redis."""

import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("portal.ratelimit")

# After a connection failure Redis is left alone for this long: a dead or black-holed server must not add a
# timeout to every request (callers fall back: the rate limit lets the request through, the log goes to the DB).
REDIS_RETRY_AFTER = 2.0
_clients: dict[str, tuple] = {}  # url -> (client, down_until)
_clients_lock = threading.Lock()


def redis_client():
    """This process's client (one connection pool) for settings.REDIS_URL; None without Redis or while it is down."""
    url = settings.REDIS_URL
    if not url:
        return None
    entry = _clients.get(url)
    if entry is None:
        import redis

        with _clients_lock:
            entry = _clients.get(url)
            if entry is None:
                client = redis.Redis.from_url(
                    url, socket_connect_timeout=0.5, socket_timeout=1.0, health_check_interval=30
                )
                entry = _clients[url] = (client, 0.0)
    client, down_until = entry
    if down_until and time.monotonic() < down_until:
        return None
    return client


def redis_failed(client, exc: Exception) -> None:
    """Note that `client` could not reach Redis: skip it for REDIS_RETRY_AFTER seconds."""
    for url, (known, _down) in list(_clients.items()):
        if known is client:
            _clients[url] = (client, time.monotonic() + REDIS_RETRY_AFTER)
    logger.warning("Redis unreachable (%s); falling back for %.0f s", exc.__class__.__name__, REDIS_RETRY_AFTER)


def client_ip(request) -> str:
    """The real client address: REMOTE_ADDR, or the proxy-appended entry when TRUSTED_PROXY_COUNT is set."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def rate_limited(request, scope: str, *, limit: int, period: int) -> bool:
    """Count this request; True once the client has made more than `limit` in the current window."""
    window = int(time.time() // period)
    key = f"rl:{scope}:{client_ip(request)}:{window}"
    if settings.REDIS_URL:
        client = redis_client()  # None while Redis is down: the request goes through (see _redis_count)
        return client is not None and _redis_count(client, key, period) > limit
    return _cache_count(key, period) > limit


def _redis_count(client, key: str, period: int) -> int:
    """INCR and EXPIRE NX in one pipeline (one round trip); the TTL is set once, by the window's first request."""
    import redis

    try:
        pipe = client.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, period + 1, nx=True)
        count, _ = pipe.execute()
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        # Fail open: an unreachable Redis must not take public pages down with it. The shared cache is Redis
        # too, so there is nothing else to count in; the outage is logged and retried after REDIS_RETRY_AFTER.
        redis_failed(client, exc)
        return 0
    return count


def _cache_count(key: str, period: int) -> int:
    # Without Redis (make run, the SQLite test tier): locmem or file cache, add + incr.
    if cache.add(key, 1, timeout=period + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=period + 1)
        return 1
