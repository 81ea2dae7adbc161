"""A fixed-window rate limit per client address, in the shared cache (Redis in production)."""
import time

from django.core.cache import cache


def client_ip(request) -> str:
    """The real client address: REMOTE_ADDR, or the proxy-appended entry when TRUSTED_PROXY_COUNT is set."""
    from django.conf import settings

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
    if cache.add(key, 1, timeout=period + 1):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=period + 1)
        return False
    return count > limit
