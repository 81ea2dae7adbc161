"""The verification log buffered in Redis and drained into PostgreSQL; the rate limit's one-round-trip pipeline."""

import datetime
import json
import threading
import uuid

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import Office
from portal.ratelimit import rate_limited, redis_client
from portal.verify import issuing, logbuffer, lookup
from portal.verify.models import DocumentStatus, IssuedDocument, VerificationLog
from portal.verify.tasks import drain_verification_log

pytestmark = [pytest.mark.services]

NOW = datetime.datetime(2026, 5, 6, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def redis():
    assert connection.vendor == "postgresql", "the services tier runs on PostgreSQL (DATABASE_URL)"
    client = redis_client()
    assert client is not None
    client.delete(logbuffer.LOG_QUEUE, logbuffer.LOG_INFLIGHT, logbuffer.LOG_LOCK, logbuffer.LOG_DEAD)
    return client


def make_document(n=1, office=None):
    from django.contrib.contenttypes.models import ContentType

    return IssuedDocument.objects.create(
        code=f"TEST-{n:04d}-0000-0000-0000",
        kind="test",
        title="无犯罪记录证明",
        source_type=ContentType.objects.get_for_model(Office),
        source_id=n,
        holder_name="王小明",
        issuing_office=office or Office.objects.first(),
        issued_at=timezone.now(),
        valid_until=timezone.localdate() + datetime.timedelta(days=90),
        status=DocumentStatus.VALID,
    )


@pytest.mark.django_db
def test_verification_is_buffered_then_drained_exactly_once(redis):
    document = make_document()
    with time_machine.travel(NOW, tick=False):
        lookup.verify_code(code=document.code, channel="api", ip="203.0.113.4")
        lookup.verify_code(code="ABCD-EFGH-JKMN-PQRS-TVWX", channel="page", ip=None)
    assert not VerificationLog.objects.exists()  # nothing written on the request
    assert logbuffer.verification_log_backlog() == 2
    assert drain_verification_log() == 2  # the beat task, called here in-process
    assert logbuffer.verification_log_backlog() == 0
    rows = list(VerificationLog.objects.order_by("at", "channel").values_list("channel", "result", "client_ip", "at"))
    assert sorted(rows) == [("api", "valid", "203.0.113.4", NOW), ("page", "not_found", None, NOW)]
    assert logbuffer.verification_log_drain() == 0  # nothing twice
    document.refresh_from_db()
    assert (document.verification_count, document.last_verified_at) == (1, NOW)


@pytest.mark.django_db
def test_duplicated_record_and_a_batch_drained_twice_count_once(redis):
    document = make_document()
    lookup.verify_code(code=document.code, channel="api", ip="192.0.2.1")
    (item,) = redis.lrange(logbuffer.LOG_QUEUE, 0, -1)
    redis.rpush(logbuffer.LOG_QUEUE, item)  # the same record pushed twice
    assert logbuffer.verification_log_drain() == 1
    # A drainer that committed, then died before clearing its in-flight batch: the next one drains it again.
    redis.rpush(logbuffer.LOG_INFLIGHT, item, item)
    assert logbuffer.verification_log_drain() == 0
    assert redis.llen(logbuffer.LOG_INFLIGHT) == 0
    document.refresh_from_db()
    assert document.verification_count == 1 and VerificationLog.objects.count() == 1


@pytest.mark.django_db
def test_unreadable_records_are_set_aside_and_the_rest_drained(redis):
    document = make_document()
    lookup.verify_code(code=document.code, channel="api", ip=None)
    redis.rpush(logbuffer.LOG_QUEUE, b"not json", json.dumps({"u": "x"}))
    assert logbuffer.verification_log_drain() == 1
    assert redis.lrange(logbuffer.LOG_DEAD, 0, -1) == [b"not json", b'{"u": "x"}']


@pytest.mark.django_db
def test_a_second_drainer_waits_for_the_lock(redis):
    document = make_document()
    lookup.verify_code(code=document.code, channel="api", ip=None)
    redis.set(logbuffer.LOG_LOCK, "someone-else", px=5000)
    assert logbuffer.verification_log_drain() == 0 and logbuffer.verification_log_backlog() == 1
    redis.delete(logbuffer.LOG_LOCK)  # their lease ends
    assert logbuffer.verification_log_drain() == 1


@pytest.mark.django_db(transaction=True)
def test_two_drainers_at_once_store_every_record_once(redis):
    documents = [make_document(n) for n in range(1, 6)]
    total = 2000
    pipe = redis.pipeline(transaction=False)
    for i in range(total):
        record = {
            "u": uuid.uuid4().hex,
            "d": documents[i % 5].pk,
            "c": "api",
            "r": "valid",
            "a": "192.0.2.7",
            "t": NOW.timestamp() + i,
        }
        pipe.rpush(logbuffer.LOG_QUEUE, json.dumps(record))
    pipe.execute()
    results = []

    def drain():
        try:
            while logbuffer.verification_log_backlog():
                results.append(logbuffer.verification_log_drain(batch_size=100))
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(results) == total
    assert VerificationLog.objects.count() == total
    counts = dict(IssuedDocument.objects.filter(kind="test").values_list("pk", "verification_count"))
    assert counts == {d.pk: total // 5 for d in documents}


@pytest.mark.django_db
def test_revocation_shows_at_once_while_verifications_are_buffered(redis, client):
    document = make_document()
    assert client.get(reverse("verify:api", args=[document.code])).json()["state"] == "valid"
    issuing.issued_document_revoke(document=document, by=None, reason="issued in error")
    assert client.get(reverse("verify:api", args=[document.code])).json()["state"] == "revoked"
    assert logbuffer.verification_log_drain() == 2
    assert list(VerificationLog.objects.order_by("at").values_list("result", flat=True)) == ["valid", "revoked"]


def test_rate_limit_is_one_pipeline_with_a_window_ttl(redis, settings):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.8")
    with time_machine.travel(NOW, tick=False):
        assert [rate_limited(request, "svc", limit=2, period=60) for _ in range(3)] == [False, False, True]
        window = int(NOW.timestamp() // 60)
        key = f"rl:svc:203.0.113.8:{window}"
        assert int(redis.get(key)) == 3
        assert 0 < redis.ttl(key) <= 61  # set once by the window's first request, never pushed back
    with time_machine.travel(NOW + datetime.timedelta(seconds=60), tick=False):
        assert not rate_limited(request, "svc", limit=2, period=60)  # a new window, a new key


@pytest.mark.django_db
def test_api_answers_429_past_the_limit_through_redis(redis, client, settings):
    settings.VERIFY_RATE_LIMIT = (3, 60)
    document = make_document()
    statuses = [client.get(reverse("verify:api", args=[document.code])).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert logbuffer.verification_log_drain() == 3  # refused requests are not verifications


@pytest.mark.django_db
def test_counter_and_log_share_one_round_trip_and_a_limited_client_skips_the_database(redis, client, settings):
    from django.test.utils import CaptureQueriesContext

    settings.VERIFY_RATE_LIMIT = (1, 60)
    document = make_document()
    url = reverse("verify:api", args=[document.code])
    from portal import ratelimit

    redis.script_load(ratelimit._COUNT_AND_PUSH)  # as on a server that ran it before (else one SCRIPT LOAD first)
    calls = []
    original = redis.execute_command

    def counting(*args, **options):
        calls.append(args[0])
        return original(*args, **options)

    redis.execute_command = counting
    try:
        with time_machine.travel(NOW, tick=False):
            assert client.get(url, REMOTE_ADDR="203.0.113.20").status_code == 200
            assert calls == ["EVALSHA"]  # the counter and the log record together
            assert logbuffer.verification_log_backlog() == 1
            assert client.get(url, REMOTE_ADDR="203.0.113.20").status_code == 429  # looked up, refused, not logged
            assert logbuffer.verification_log_backlog() == 1
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, REMOTE_ADDR="203.0.113.20").status_code == 429
            assert not queries.captured_queries  # refused by the counter alone, before any database work
            assert client.get(url, REMOTE_ADDR="203.0.113.21").status_code == 200  # another client
    finally:
        del redis.execute_command
    assert logbuffer.verification_log_drain() == 2


@pytest.mark.django_db
def test_a_cached_row_is_counted_answered_and_logged_in_one_round_trip(redis, settings, client, monkeypatch):
    """rowcache.verify_hit: the script logs the state lookup answers, at the boundaries of validity too."""
    from portal.verify import rowcache

    settings.VERIFY_CACHE_SECONDS = 60
    today = timezone.localdate()
    documents = {
        "valid": make_document(1),
        "last day": make_document(2),
        "expired": make_document(3),
        "revoked": make_document(4),
    }
    IssuedDocument.objects.filter(pk=documents["last day"].pk).update(valid_until=today)
    IssuedDocument.objects.filter(pk=documents["expired"].pk).update(valid_until=today - datetime.timedelta(days=1))
    IssuedDocument.objects.filter(pk=documents["revoked"].pk).update(
        status=DocumentStatus.REVOKED, revoked_at=timezone.now()
    )
    expected = {"valid": "valid", "last day": "valid", "expired": "expired", "revoked": "revoked"}
    for document in documents.values():
        redis.delete(rowcache.cache_key(document.code))
    commands = []
    real = redis.execute_command

    def counting(*args, **kwargs):
        commands.append(args[0])
        return real(*args, **kwargs)

    for name, document in documents.items():
        url = reverse("verify:api", args=[document.code])
        # From an address no other test used: this process remembers addresses it saw past their limit.
        assert client.get(url, REMOTE_ADDR="198.51.100.77").json()["state"] == expected[name]  # database, cached
        assert rowcache.peek(document.code)["id"] == document.pk
        monkeypatch.setattr(redis, "execute_command", counting)
        commands.clear()
        assert client.get(url, REMOTE_ADDR="198.51.100.77").json()["state"] == expected[name]  # from the cache
        assert commands == ["EVALSHA"]  # one round trip: counted, read and logged
        monkeypatch.undo()
    logbuffer.verification_log_drain()
    for name, document in documents.items():
        results = list(VerificationLog.objects.filter(document=document).values_list("result", flat=True))
        assert results == [expected[name]] * 2


@pytest.mark.django_db(transaction=True)
def test_the_look_up_is_its_own_health_check_and_survives_a_dead_connection(redis):
    """_LookupByCode skips the connection's SELECT 1 and, on a connection the server dropped, reconnects once."""
    from django.test.utils import CaptureQueriesContext

    document = make_document(7)
    connection.close_if_unusable_or_obsolete()  # as at the start of a request: the health check is due
    with CaptureQueriesContext(connection) as queries:
        assert lookup._lookup_by_code(document.code)["id"] == document.pk
    assert not [q for q in queries if q["sql"].strip().upper() == "SELECT 1"]
    pid = connection.cursor().connection.info.backend_pid
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    connection.close_if_unusable_or_obsolete()
    assert lookup._lookup_by_code(document.code)["id"] == document.pk  # on a new connection
    assert connection.cursor().connection.info.backend_pid != pid
