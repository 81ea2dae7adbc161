"""A fixed-window rate limit per client address: one Redis round trip, or the Django cache without Redis."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

if TYPE_CHECKING:
    from redis import Redis
    from redis.commands.core import Script

logger = logging.getLogger("portal.ratelimit")

# After a connection failure Redis is left alone for this long: a dead or black-holed server must not add a
# timeout to every request (callers fall back: the rate limit lets the request through, the log goes to the DB).
REDIS_RETRY_AFTER = 2.0
_clients: dict[str, tuple[Redis, float]] = {}  # url -> (client, down_until)
_clients_lock = threading.Lock()


def redis_client() -> Redis | None:
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


def redis_failed(client: Redis, exc: Exception) -> None:
    """Note that `client` could not reach Redis: skip it for REDIS_RETRY_AFTER seconds."""
    for url, (known, _down) in list(_clients.items()):
        if known is client:
            _clients[url] = (client, time.monotonic() + REDIS_RETRY_AFTER)
    logger.warning("Redis unreachable (%s); falling back for %.0f s", exc.__class__.__name__, REDIS_RETRY_AFTER)


def client_ip(request: HttpRequest) -> str:
    """The real client address: REMOTE_ADDR, or the proxy-appended entry when TRUSTED_PROXY_COUNT is set."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def window_key(request: HttpRequest, scope: str, period: int) -> str:
    """The counter of this client in `scope` for the current fixed window of `period` seconds."""
    return f"rl:{scope}:{client_ip(request)}:{int(time.time() // period)}"


def rate_limited(request: HttpRequest, scope: str, *, limit: int, period: int) -> bool:
    """Count this request; True once the client has made more than `limit` in the current window."""
    return rate_limited_key(window_key(request, scope, period), limit=limit, period=period)


def rate_limited_key(key: str, *, limit: int, period: int) -> bool:
    """rate_limited for a key from window_key."""
    if settings.REDIS_URL:
        client = redis_client()  # None while Redis is down: the request goes through (see _redis_count)
        return client is not None and _redis_count(client, key, period) > limit
    return _cache_count(key, period) > limit


def _redis_count(client: Redis, key: str, period: int) -> int:
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


# Count the request and, only if it is within the limit, append ARGV[3] to the list KEYS[2]: the rate limit and the
# verification log in one round trip. A refused request is counted but not logged (it verified nothing).
_COUNT_AND_PUSH = """
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
if n <= tonumber(ARGV[2]) then redis.call('RPUSH', KEYS[2], ARGV[3]) end
return n
"""
_scripts: dict[int, Script] = {}  # id(client) -> its registered script (EVALSHA, reloaded on NOSCRIPT)


def redis_count_and_push(client: Redis, key: str, *, limit: int, period: int, list_key: str, item: str) -> int:
    """INCR the window counter `key` and RPUSH `item` onto `list_key` unless past `limit`; returns the count.

    Raises redis.ConnectionError / TimeoutError: the caller decides the fallback (and calls redis_failed).
    """
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(_COUNT_AND_PUSH)
    count = script(keys=[key, list_key], args=[period + 1, limit, item])
    if count > limit:
        note_limited(key, period)
    return count


def note_limited(key: str, period: int) -> None:
    """Remember that the window counter `key` went past its limit (recently_limited)."""
    now = time.monotonic()
    if len(_limited_hint) > 10_000:  # bounded: drop the expired hints first
        for stale in [k for k, t in _limited_hint.items() if t < now]:
            _limited_hint.pop(stale, None)
    _limited_hint[key] = now + period + 1


# Window keys this process saw past their limit lately. A request from such a client is refused by the counter
# alone, before any database work; everyone else pays one round trip for the counter and the log together.
_limited_hint: dict[str, float] = {}


def recently_limited(key: str) -> bool:
    """True if this process saw `key` past its limit (a hint: the counter in Redis still decides)."""
    until = _limited_hint.get(key)
    if until is None:
        return False
    if until < time.monotonic():
        _limited_hint.pop(key, None)
        return False
    return True


def _cache_count(key: str, period: int) -> int:
    # Without Redis (make run, the SQLite test tier): locmem or file cache, add + incr.
    if cache.add(key, 1, timeout=period + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=period + 1)
        return 1
