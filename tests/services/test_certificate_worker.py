"""A real Celery worker killed with SIGKILL while it generates a certificate: after a new worker and the
re-queue sweep there is still exactly one certificate, valid, with one file (PostgreSQL + Redis)."""

import hashlib
import os
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from certificates import services
from certificates.models import Status
from certificates.tasks import requeue_missing_certificates
from portal import celery_app, pdf
from portal.verify.models import DocumentStatus, IssuedDocument
from tests.factories import ApplicationFactory, OfficeFactory, StaffFactory
from tests.pki import signing_settings

from .harness import Worker, database_url, poll

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def private_queue():
    """Publish to, and consume from, a queue of this test's own (other runs may share the Redis database)."""
    name = f"test-ncr-{uuid.uuid4().hex[:12]}"
    old_default, old_routes = celery_app.conf.task_default_queue, celery_app.conf.task_routes
    celery_app.conf.task_default_queue = name  # the router reads it on every publish
    celery_app.conf.update(task_routes={})  # pdf and notify tasks too (update() rebuilds the cached router)
    try:
        yield name
    finally:
        celery_app.conf.task_default_queue = old_default
        celery_app.conf.update(task_routes=old_routes)
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(name)


@pytest.fixture
def worker_env(tmp_path, settings, lta_signing):
    """A production worker's environment, signing PAdES B-LTA against the session's test PKI on loopback."""
    settings.MEDIA_ROOT = tmp_path / "media"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.CELERY_BROKER_URL,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        **signing_settings(Path(settings.SIGNING_KEY_FILE).parent),
        TSA_URL=lta_signing.tsa_url,
        SECRET_KEY="services-tier-" + uuid.uuid4().hex,
        SITE_URL=settings.SITE_URL,
        DEBUG="0",
        CONN_MAX_AGE="0",
        # The tier's stand-ins (http:// SITE_URL, SMS kept, no mail relay) that portal/checks.py would refuse.
        SILENCED_SYSTEM_CHECKS="portal.E001,portal.E002,portal.E005,portal.E007,portal.E008",
    )
    return env


def test_worker_killed_mid_certificate_still_ends_with_exactly_one(private_queue, worker_env, tmp_path, settings):
    assert connection.vendor == "postgresql", "the services tier runs on PostgreSQL (DATABASE_URL)"
    assert celery_app.conf.broker_url.startswith("redis://")
    station = OfficeFactory()
    officer = StaffFactory(office=station)
    application = ApplicationFactory(office=station, status=Status.ACCEPTED)

    first = Worker(private_queue, worker_env, tmp_path / "worker-1.log")
    second = None
    try:
        first.wait_ready()
        services.application_approve(application=application, by=officer)  # commits, then publishes

        claimed = poll(lambda: IssuedDocument.objects.filter(status=DocumentStatus.GENERATING).first(), timeout=60)
        assert claimed is not None, "the worker never claimed the certificate:\n" + first.log_path.read_text()[-3000:]
        first.kill()
        claimed.refresh_from_db()
        assert claimed.status == DocumentStatus.GENERATING, "the worker finished before it could be killed"
        application.refresh_from_db()
        assert application.status == Status.APPROVED

        second = Worker(private_queue, worker_env, tmp_path / "worker-2.log")
        second.wait_ready()
        requeued = requeue_missing_certificates(older_than_minutes=0)
        assert requeued == [[application.pk, 1]]

        def issued():
            application.refresh_from_db()
            return application.status == Status.ISSUED

        assert poll(issued, timeout=90, interval=0.2), second.log_path.read_text()[-3000:]
    finally:
        first.stop()
        if second is not None:
            second.stop()

    [document] = IssuedDocument.objects.all()
    assert document.status == DocumentStatus.VALID
    assert document.code == claimed.code and document.generation == 1
    issued_dir = Path(settings.MEDIA_ROOT) / "private" / "issued"
    assert sorted(p.name for p in issued_dir.iterdir()) == [f"{document.code}.pdf"]
    data = (issued_dir / f"{document.code}.pdf").read_bytes()
    assert hashlib.sha256(data).hexdigest() == document.sha256
    # Issued by a real worker as production issues it: PAdES B-LTA, valid on its own embedded data.
    check = pdf.check_signature(data)
    assert check.ok and check.long_term, check.error
    assert document.generated_at <= timezone.now()
    assert requeue_missing_certificates(older_than_minutes=0) == []
