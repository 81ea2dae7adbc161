"""portal.ratelimit: the fixed window per client and scope, through the Django cache when there is no Redis."""

import datetime

import pytest
import time_machine
from django.test import RequestFactory

from portal.ratelimit import client_ip, rate_limited, redis_client

START = datetime.datetime(2026, 11, 24, 10, 0, 5, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def no_redis(settings):
    # The fallback (make run, the SQLite tier): the locmem or file cache, whatever REDIS_URL the run has.
    settings.REDIS_URL = ""


def request_from(ip, forwarded=None):
    extra = {"REMOTE_ADDR": ip}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_limit_per_client_and_scope_with_a_fixed_window():
    with time_machine.travel(START, tick=False):
        assert [rate_limited(request_from("203.0.113.1"), "t", limit=3, period=60) for _ in range(5)] == [
            False, False, False, True, True,
        ]  # fmt: skip
        assert not rate_limited(request_from("203.0.113.2"), "t", limit=3, period=60)  # another client
        assert not rate_limited(request_from("203.0.113.1"), "other", limit=3, period=60)  # another scope
    with time_machine.travel(START + datetime.timedelta(seconds=50), tick=False):
        assert rate_limited(request_from("203.0.113.1"), "t", limit=3, period=60)  # same window
    with time_machine.travel(START + datetime.timedelta(seconds=55), tick=False):
        assert not rate_limited(request_from("203.0.113.1"), "t", limit=3, period=60)  # the next one


def test_forged_forwarded_for_gains_nothing(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from("203.0.113.1", forwarded="198.51.100.9")) == "203.0.113.1"
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy appends the address it saw; whatever the client wrote before it is not trusted.
    assert client_ip(request_from("10.0.0.2", forwarded="198.51.100.9, 203.0.113.1")) == "203.0.113.1"
    with time_machine.travel(START, tick=False):
        for forged in ("1.1.1.1", "2.2.2.2"):
            rate_limited(request_from("10.0.0.2", forwarded=f"{forged}, 203.0.113.1"), "t", limit=1, period=60)
        assert rate_limited(request_from("10.0.0.2", forwarded="3.3.3.3, 203.0.113.1"), "t", limit=1, period=60)


def test_unreachable_redis_fails_open_and_is_left_alone_for_a_while(settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/13"  # nothing listens there (a URL of this test's own)
    assert redis_client() is not None
    assert not any(rate_limited(request_from("203.0.113.1"), "t", limit=1, period=60) for _ in range(3))
    assert caplog.text.count("Redis unreachable") == 1
    assert redis_client() is None  # no connection attempt per request while it is down
