"""Faults survived with nothing lost, against real processes: a gunicorn web server, Celery workers, and
Redis and PostgreSQL servers of the test's own that it stops, pauses, empties, restarts or fills up.

The machine's shared PostgreSQL and Redis are never stopped: every fault is done to a private server (harness.py).
Each test names the fault it survives; the assertions are what the issue asks of it.
"""

import contextlib
import datetime
import hashlib
import os
import subprocess
import threading
import time
from pathlib import Path

import psycopg2
import pytest
from celery.signals import before_task_publish
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from certificates import services
from certificates.documents import CERTIFICATE_TITLE, CERTIFICATE_TITLE_EN
from certificates.models import Application, Status
from certificates.services import KIND_CERTIFICATE, certificate_valid_until
from certificates.tasks import generate_certificate, requeue_missing_certificates
from familyplanning import services as fp_services
from familyplanning.models import FamilyPlanningApplication
from familyplanning.models import Status as FpStatus
from familyplanning.tasks import requeue_missing_documents
from portal import celery_app
from portal.cases.models import Transition
from portal.documents.models import Document
from portal.documents.services import documents_purge_partial_files
from portal.notify.models import Channel, MessageStatus, OutboxMessage
from portal.notify.tasks import relay_outbox
from portal.verify.issuing import issued_document_claim
from portal.verify.models import DocumentStatus, IssuedDocument
from tests.certificates.pages import id_card_image, portrait
from tests.factories import (
    ApplicationFactory,
    FamilyPlanningApplicationFactory,
    OfficeFactory,
    StaffFactory,
    UserFactory,
)
from tests.pki import install_signer

from .harness import PostgresCluster, RedisServer, WebServer, Worker, poll, process_env, publishing_to
from .races import race

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ALL_QUEUES = "pdf,notify,default"  # the production routing (settings.CELERY_TASK_ROUTES), on a private Redis
DOCUMENTS, USERS = IssuedDocument._meta.db_table, User._meta.db_table  # table names for the row locks below


@pytest.fixture(autouse=True)
def _postgresql():
    assert connection.vendor == "postgresql", "the services tier runs on PostgreSQL (DATABASE_URL)"


@pytest.fixture(scope="module")
def signing_keys(tmp_path_factory):
    return install_signer(tmp_path_factory.mktemp("fault-keys"))


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis")
    yield server
    server.resume()
    server.stop()


@pytest.fixture
def env(settings, tmp_path, signing_keys, redis_server):
    """Web and worker processes' environment; this process publishes to the same private Redis."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, signing_keys)
    (tmp_path / "mail").mkdir()
    with publishing_to(redis_server.url()):
        yield process_env(settings, REDIS_URL=redis_server.url(), EMAIL_URL=f"file://{tmp_path / 'mail'}")


@pytest.fixture
def processes():
    """Start workers and web servers through this; all are stopped at the end, whatever happened."""
    started = []

    def start(process):
        started.append(process)
        process.wait_ready()
        return process

    yield start
    for process in reversed(started):
        process.stop()


# --- helpers -------------------------------------------------------------------------------------------------


def documents_of(case):
    return IssuedDocument.objects.filter(source_type=ContentType.objects.get_for_model(type(case)), source_id=case.pk)


def private_dir(settings) -> Path:
    return Path(settings.MEDIA_ROOT) / "private"


def issued_files(settings) -> list[str]:
    folder = private_dir(settings) / "issued"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def partial_files(settings) -> list[str]:
    folder = private_dir(settings) / ".partial"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def reaches(case, status, timeout, worker=None):
    def done():
        case.refresh_from_db()
        return case.status == status

    assert poll(done, timeout=timeout, interval=0.2), f"{case} is {case.status}:\n" + (
        worker.output() if worker else ""
    )


def assert_one_valid_certificate(case, settings) -> IssuedDocument:
    (document,) = documents_of(case)
    assert document.status == DocumentStatus.VALID
    data = (private_dir(settings) / document.file.name).read_bytes()
    assert data.startswith(b"%PDF-") and hashlib.sha256(data).hexdigest() == document.sha256
    assert [t.to_status for t in case.timeline()].count("issued") == 1
    return document


def lock_waiters(dsn: dict, query_prefix: str = "") -> int:
    """How many sessions of the database `dsn` wait on a lock (optionally: running a statement that starts so)."""
    with psycopg2.connect(**dsn) as probe, probe.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND query ILIKE %s",
            [query_prefix + "%"],
        )
        count = cursor.fetchone()[0]
    probe.close()
    return count


def dsn_of(db: dict) -> dict:
    return {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "dbname": db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
    }


def session_key(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def mails_to(tmp_path, address) -> int:
    return sum(f.read_text(errors="replace").count(f"To: {address}") for f in (tmp_path / "mail").iterdir())


# --- 1. Redis stopped (or hung) while a citizen submits --------------------------------------------------------


def test_redis_down_while_citizens_submit_answers_within_seconds_and_the_relay_delivers_everything(
    env, redis_server, processes, tmp_path
):
    station = OfficeFactory()
    drafts = [ApplicationFactory(office=station, status=Status.DRAFT, documents=True) for _ in range(2)]
    web = processes(WebServer(env, tmp_path / "web.log"))
    browsers = [web.browser(session_key(d.applicant)) for d in drafts]
    paths = [reverse("certificates:check", args=[d.case_number]) for d in drafts]
    tokens = [b.form_token(p) for b, p in zip(browsers, paths, strict=True)]

    # A hung Redis (accepts connections, never answers), then a stopped one.
    redis_server.pause()
    hung = browsers[0].post_form(paths[0], {"declaration": "on"}, tokens[0])
    redis_server.stop()
    stopped = browsers[1].post_form(paths[1], {"declaration": "on"}, tokens[1])
    health = web.browser().get("/healthz/")

    for response, draft in zip((hung, stopped), drafts, strict=True):
        assert response.status == 302, (response, response.text[-2000:], web.output())
        assert response.headers["Location"] == reverse("certificates:submitted", args=[draft.case_number])
        assert response.elapsed < 5.0, f"the submission took {response.elapsed:.1f} s with Redis down"
    assert browsers[1].get(stopped.headers["Location"]).status == 200  # the confirmation page, case number on it
    assert health.status == 503 and '"broker"' in health.text  # the load balancer is told, not the citizen
    # The applications and their outbox rows are saved; nothing could be handed to the broker.
    for draft in drafts:
        draft.refresh_from_db()
        assert draft.status == Status.SUBMITTED and len(draft.timeline()) == 1
    queued = OutboxMessage.objects.filter(user__in=[d.applicant for d in drafts], template="certificates/submitted")
    assert sorted(queued.values_list("status", "channel")) == sorted([(MessageStatus.PENDING, c) for c in Channel] * 2)
    assert "not published" in web.output()

    # Redis is back (empty: nothing was ever in it); the beat's relay delivers every row, once.
    redis_server.start()
    worker = processes(Worker(ALL_QUEUES, env, tmp_path / "worker.log"))
    relay_outbox.delay()  # as the beat does every 30 s

    def all_sent():  # the e-mails sent; the SMS kept in the outbox (the tier's database SMS backend)
        done = {(MessageStatus.SENT, Channel.EMAIL), (MessageStatus.KEPT, Channel.SMS)}
        return set(queued.values_list("status", "channel")) == done

    assert poll(all_sent, timeout=60, interval=0.2), worker.output()
    assert set(queued.values_list("attempts", flat=True)) == {1}
    for draft in drafts:
        assert mails_to(tmp_path, draft.applicant.email) == 1


# --- 2. Redis restarted with its queues emptied ----------------------------------------------------------------


def test_redis_restarted_empty_the_sweeps_requeue_from_the_database_and_nothing_stays_generating(
    env, redis_server, processes, tmp_path, settings
):
    station = OfficeFactory()
    officer = StaffFactory(office=station)
    lost = ApplicationFactory(office=station, status=Status.ACCEPTED)
    half_done = ApplicationFactory(office=station, status=Status.ACCEPTED)
    fp_office = OfficeFactory(kind="family_planning", name="金水区卫生健康委员会", name_en="Jinshui Health Commission")
    fp_case = FamilyPlanningApplicationFactory(office=fp_office, service="birth_registration", accepted=True)
    services.application_approve(application=lost, by=officer)
    services.application_approve(application=half_done, by=officer)
    fp_services.fp_approve(application=fp_case, by=StaffFactory(office=fp_office, role=Role.FAMILY_PLANNING_OFFICER))
    # A worker claimed half_done's certificate (status "generating") and died with it.
    claimed, _ = issued_document_claim(
        source=half_done,
        generation=1,
        kind=KIND_CERTIFICATE,
        title=CERTIFICATE_TITLE,
        title_en=CERTIFICATE_TITLE_EN,
        holder=half_done.applicant,
        holder_name=half_done.holder_name,
        issuing_office=station,
        valid_until=certificate_valid_until(timezone.localdate()),
    )
    assert redis_server.queue_length("pdf") == 3

    redis_server.restart()  # no persistence: every queue is gone, as after a FLUSHALL
    assert redis_server.queue_length("pdf") == 0
    worker = processes(Worker(ALL_QUEUES, env, tmp_path / "worker.log", concurrency=2))
    # The beat's reconciling sweeps (every 2 minutes, for approvals older than 3 minutes; here at once).
    requeue_missing_certificates.delay(older_than_minutes=0)
    requeue_missing_documents.delay(older_than_minutes=0)

    for case in (lost, half_done, fp_case):
        reaches(case, Status.ISSUED if isinstance(case, Application) else FpStatus.ISSUED, 150, worker)
    assert_one_valid_certificate(lost, settings)
    assert assert_one_valid_certificate(half_done, settings).code == claimed.code  # finished, not made twice
    (fp_document,) = documents_of(fp_case)
    assert fp_document.status == DocumentStatus.VALID
    assert not IssuedDocument.objects.filter(status=DocumentStatus.GENERATING).exists()
    assert len(issued_files(settings)) == 3 and partial_files(settings) == []
    assert requeue_missing_certificates(older_than_minutes=0) == []
    assert requeue_missing_documents(older_than_minutes=0) == []

    # Restarted again under a running worker and this process's publisher: both reconnect by themselves.
    redis_server.restart()
    later = ApplicationFactory(office=station, status=Status.ACCEPTED)
    services.application_approve(application=later, by=officer)
    reaches(later, Status.ISSUED, 120, worker)
    assert_one_valid_certificate(later, settings)


# --- 3. A worker killed with SIGKILL while it writes the PDF ---------------------------------------------------
# (test_certificate_worker.py kills one while it renders.)


def test_worker_killed_while_writing_the_pdf_leaves_no_half_file_and_one_certificate(
    env, processes, tmp_path, settings
):
    station = OfficeFactory()
    application = ApplicationFactory(office=station, status=Status.ACCEPTED)
    first = processes(Worker(ALL_QUEUES, env, tmp_path / "worker-1.log"))
    services.application_approve(application=application, by=StaffFactory(office=station))
    claimed = poll(lambda: documents_of(application).first(), timeout=60)
    assert claimed is not None, first.output()

    # Hold the document's row: the worker writes and fsyncs the PDF, then waits to mark it stored; kill it there.
    holder = psycopg2.connect(**dsn_of(connection.settings_dict))
    try:
        with holder.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {DOCUMENTS} WHERE id = %s FOR UPDATE", [claimed.pk])  # noqa: S608
        dsn = dsn_of(connection.settings_dict)
        assert poll(lambda: partial_files(settings) and lock_waiters(dsn, "UPDATE"), timeout=90, interval=0.05), (
            first.output()
        )
        first.kill()
    finally:
        holder.rollback()
        holder.close()

    claimed.refresh_from_db()
    application.refresh_from_db()
    assert claimed.status == DocumentStatus.GENERATING and not claimed.file and not claimed.sha256
    assert application.status == Status.APPROVED
    assert issued_files(settings) == []  # nothing half-written where the certificate goes
    (left,) = partial_files(settings)  # the killed writer's temporary file, outside every document's name

    processes(Worker(ALL_QUEUES, env, tmp_path / "worker-2.log"))
    assert requeue_missing_certificates(older_than_minutes=0) == [[application.pk, 1]]
    reaches(application, Status.ISSUED, 90)
    assert assert_one_valid_certificate(application, settings).code == claimed.code
    assert issued_files(settings) == [f"{claimed.code}.pdf"]
    # The beat's purge removes the dead writer's temporary file once it is old, never a write in progress.
    assert documents_purge_partial_files() == 0 and partial_files(settings) == [left]
    assert documents_purge_partial_files(older_than=datetime.timedelta(0)) == 1
    assert partial_files(settings) == []


# --- 4. The same task twice; a rolled-back transaction's task; a task before its commit ------------------------


def test_the_same_certificate_task_delivered_twice_at_once_makes_one_certificate(
    env, redis_server, processes, tmp_path, settings
):
    station = OfficeFactory()
    application = ApplicationFactory(office=station, status=Status.ACCEPTED)
    services.application_approve(application=application, by=StaffFactory(office=station))
    generate_certificate.delay(application.pk, 1)  # the broker delivers the message a second time
    assert redis_server.queue_length("pdf") == 2

    worker = processes(Worker(ALL_QUEUES, env, tmp_path / "worker.log", concurrency=2))  # both run together
    reaches(application, Status.ISSUED, 90, worker)
    assert poll(lambda: worker.output(20000).count("generate_certificate[") >= 4, timeout=60, interval=0.2), (
        worker.output()
    )  # received twice, finished twice
    assert_one_valid_certificate(application, settings)
    assert len(issued_files(settings)) == 1 and partial_files(settings) == []
    ready = OutboxMessage.objects.filter(user=application.applicant, template="certificates/ready")
    assert sorted(ready.values_list("channel", flat=True)) == sorted(Channel)  # told once, by e-mail and SMS


def test_a_task_is_published_only_after_its_transaction_commits_and_never_after_a_rollback(
    env, redis_server, processes, tmp_path, settings
):
    station = OfficeFactory()
    officer = StaffFactory(office=station)
    rolled_back = ApplicationFactory(office=station, status=Status.ACCEPTED)
    held = ApplicationFactory(office=station, status=Status.ACCEPTED)
    worker = processes(Worker(ALL_QUEUES, env, tmp_path / "worker.log"))
    published = []

    def seen_elsewhere(pk):
        """The application's status as another connection sees it (committed data only)."""
        seen = []
        thread = threading.Thread(
            target=lambda: (seen.append(Application.objects.get(pk=pk).status), connections.close_all())
        )
        thread.start()
        thread.join(timeout=10)
        return seen[0]

    def on_publish(sender=None, body=None, **kwargs):
        args = body[0] if isinstance(body, tuple) else body.get("args", ())
        published.append((sender, connection.in_atomic_block, seen_elsewhere(args[0])))

    before_task_publish.connect(on_publish, weak=False)
    try:
        # The approval succeeds, then the request fails and its transaction rolls back: no task.
        with pytest.raises(RuntimeError), transaction.atomic():
            services.application_approve(application=rolled_back, by=officer)
            raise RuntimeError("the officer's request failed after the approval")
        assert published == [] and redis_server.queue_length("pdf") == 0

        # Held open: nothing is published until the commit, and then the worker sees the approval.
        with transaction.atomic():
            services.application_approve(application=held, by=officer)
            time.sleep(1.0)  # a worker that got the task now would find the application not approved
            assert published == [] and redis_server.queue_length("pdf") == 0
            assert seen_elsewhere(held.pk) == Status.ACCEPTED
        assert published == [("certificates.tasks.generate_certificate", False, Status.APPROVED)]
    finally:
        before_task_publish.disconnect(on_publish)

    reaches(held, Status.ISSUED, 90, worker)
    assert_one_valid_certificate(held, settings)
    rolled_back.refresh_from_db()
    assert (rolled_back.status, rolled_back.certificate_generation, rolled_back.decided_by) == (
        Status.ACCEPTED,
        0,
        None,
    )
    assert list(rolled_back.timeline()) == []
    assert not documents_of(rolled_back).exists()
    assert "not-approved" not in worker.output(20000)  # no task ever ran ahead of its commit


# --- 5. PostgreSQL restarted under load ------------------------------------------------------------------------


@pytest.fixture
def private_postgres():
    cluster = PostgresCluster()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_postgresql_restarted_under_load_web_and_worker_recover_and_approvals_in_flight_roll_back_whole(
    settings, tmp_path, signing_keys, redis_server, private_postgres, processes
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, signing_keys)
    db = connections["default"].settings_dict  # the dict every new connection of this process is made from
    saved = {key: db[key] for key in ("HOST", "PORT", "NAME", "USER", "PASSWORD")}
    private_postgres.copy_database(db)  # the migrated test database, reference rows included
    connections.close_all()
    db.update(private_postgres.settings_dict(db))
    try:
        with publishing_to(redis_server.url()):
            _restart_under_load(settings, tmp_path, redis_server, private_postgres, processes)
    finally:
        connections.close_all()
        db.update(saved)


def _restart_under_load(settings, tmp_path, redis_server, cluster, processes):
    assert connection.settings_dict["PORT"] == str(cluster.port)
    dsn = dsn_of(connection.settings_dict)
    station = OfficeFactory()
    officer = StaffFactory(office=station)
    citizen = UserFactory(language="en")
    working = ApplicationFactory(office=station, applicant=citizen, status=Status.ACCEPTED)
    in_flight = ApplicationFactory(office=station, applicant=citizen, status=Status.ACCEPTED)
    fp_office = OfficeFactory(kind="family_planning", name="金水区卫生健康委员会", name_en="Jinshui Health Commission")
    fp_officer = StaffFactory(office=fp_office, role=Role.FAMILY_PLANNING_OFFICER)
    fp_in_flight = FamilyPlanningApplicationFactory(
        office=fp_office, service="institution_establishment", accepted=True
    )  # approval notifies (no document)
    before = {
        "transitions": Transition.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "fp_due": fp_in_flight.due_date,
    }

    # Production connection settings: persistent connections (CONN_MAX_AGE) with health checks.
    (tmp_path / "mail").mkdir()
    env = process_env(settings, REDIS_URL=redis_server.url(), CONN_MAX_AGE=60, EMAIL_URL=f"file://{tmp_path / 'mail'}")
    web = processes(WebServer(env, tmp_path / "web.log"))
    worker = processes(Worker(ALL_QUEUES, env, tmp_path / "worker.log"))
    page = reverse("certificates:detail", args=[working.case_number])
    browser = web.browser(session_key(citizen))
    assert browser.get(page).status == 200

    # Load: the citizen's status page, again and again, across the restart.
    results, stop = [], threading.Event()

    def load():
        while not stop.is_set():
            response = browser.get(page, timeout=15)
            results.append((time.monotonic(), response.status, response.elapsed))
            time.sleep(0.05)

    services.application_approve(application=working, by=officer)
    claimed = poll(lambda: documents_of(working).first(), timeout=60)
    assert claimed is not None, worker.output()
    loader = threading.Thread(target=load)
    loader.start()

    # Hold rows so that, at the moment of the restart, the worker is storing its PDF and two approvals have made
    # every write and wait on their COMMIT (PostgreSQL checks Django's deferred foreign keys at commit).
    holder = psycopg2.connect(**dsn)
    outcomes = {}
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {USERS} WHERE id IN (%s, %s) FOR UPDATE",  # noqa: S608
                [officer.pk, fp_officer.pk],
            )
            cursor.execute(f"SELECT 1 FROM {DOCUMENTS} WHERE id = %s FOR UPDATE", [claimed.pk])  # noqa: S608

        def approve(name, step):
            try:
                step()
                outcomes[name] = "committed"
            except Exception as exc:  # noqa: BLE001 - asserted below
                outcomes[name] = type(exc).__name__
            finally:
                connections.close_all()

        approvals = [
            threading.Thread(
                target=approve,
                args=("certificate", lambda: services.application_approve(application=in_flight, by=officer)),
            ),
            threading.Thread(
                target=approve,
                args=(
                    "family planning",
                    lambda: fp_services.fp_approve(
                        application=FamilyPlanningApplication.objects.get(pk=fp_in_flight.pk), by=fp_officer
                    ),
                ),
            ),
        ]
        for thread in approvals:
            thread.start()
        waiting = poll(lambda: lock_waiters(dsn, "COMMIT") == 2 and lock_waiters(dsn, "UPDATE") == 1, 90, 0.1)
        assert waiting, (outcomes, worker.output())
        restarted_at = time.monotonic()
        cluster.restart()
        back_at = time.monotonic()
        for thread in approvals:
            thread.join(timeout=30)
    finally:
        holder.close()
    time.sleep(6)  # the load runs on after the restart
    stop.set()
    loader.join(timeout=30)
    connections.close_all()  # this process's own connection died too; a request boundary would do this

    # Both approvals in flight failed and left nothing: status, timeline, outbox and clock as before.
    assert len(outcomes) == 2 and set(outcomes.values()) <= {"OperationalError", "InterfaceError"}, outcomes
    in_flight.refresh_from_db()
    fp_in_flight.refresh_from_db()
    assert (in_flight.status, in_flight.certificate_generation, in_flight.decided_by) == (Status.ACCEPTED, 0, None)
    assert (fp_in_flight.status, fp_in_flight.decided_by, fp_in_flight.due_date) == (
        FpStatus.ACCEPTED,
        None,
        before["fp_due"],
    )
    assert list(in_flight.timeline()) == [] and "approved" not in [t.to_status for t in fp_in_flight.timeline()]
    assert not OutboxMessage.objects.filter(template="familyplanning/approved").exists()
    assert not documents_of(in_flight).exists()

    # The web server recovered by itself: requests during the restart failed fast and cleanly, all later ones
    # succeeded, and no gunicorn worker was replaced.
    assert all(elapsed < 10 for _, _, elapsed in results)
    assert {status for _, status, _ in results} <= {200, 500, 503}, results
    later = [status for at, status, _ in results if at > back_at + 2]
    assert len(later) >= 5 and set(later) == {200}, [(round(at - restarted_at, 2), s) for at, s, _ in results]
    assert web.output(100000).count("Booting worker") == 2

    # The worker recovered by itself: the PDF it was storing is retried and stored once, and new work is done.
    services.application_approve(application=in_flight, by=officer)
    reaches(working, Status.ISSUED, 120, worker)
    reaches(in_flight, Status.ISSUED, 120, worker)
    assert "Retry in" in worker.output(100000)
    assert assert_one_valid_certificate(working, settings).code == claimed.code
    assert_one_valid_certificate(in_flight, settings)
    assert [t.to_status for t in in_flight.timeline()] == ["approved", "issued"]
    assert Transition.objects.count() == before["transitions"] + 4


# --- 6. Disk full while saving an upload or a PDF ---------------------------------------------------------------


class SmallDisk:
    """A 256 KiB tmpfs: fill() takes every free byte with a filler file, free() removes it."""

    def __init__(self, path: Path):
        self.path = path
        self.filler = path / "filler"

    def fill(self):
        with open(self.filler, "ab", buffering=0) as fh:
            for size in (65536, 4096, 1):
                with contextlib.suppress(OSError):
                    while True:
                        fh.write(b"\0" * size)

    def free(self):
        self.filler.unlink()

    def files(self) -> list[str]:
        """Every file on the disk but the filler."""
        return sorted(str(p.relative_to(self.path)) for p in self.path.rglob("*") if p.is_file() and p != self.filler)


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a small tmpfs, which only root may mount")
    path = tmp_path / "small-disk"
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(path)], capture_output=True, text=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def uploads():
    return {
        "action": "continue",
        "id_front": SimpleUploadedFile("front.jpg", id_card_image(), "image/jpeg"),
        "id_back": SimpleUploadedFile("back.jpg", id_card_image(), "image/jpeg"),
        "photo": SimpleUploadedFile("me.png", portrait(), "image/png"),
    }


def test_disk_full_while_a_citizen_uploads_gives_a_clear_message_and_leaves_no_file_or_row(
    client, settings, small_disk
):
    settings.MEDIA_ROOT = small_disk.path
    citizen = UserFactory(language="en")
    draft = services.application_create_draft(applicant=citizen, for_self=True, office=OfficeFactory())
    client.force_login(citizen)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("certificates:section", args=[draft.case_number, "documents"])
    small_disk.fill()

    response = client.post(url, uploads())

    assert response.status_code == 400  # the form again, not an error page
    html = response.content.decode()
    assert "Your file could not be saved just now." in html
    for field in ("id_front", "id_back", "photo"):
        assert f'id="id_{field}_error"' in html  # next to each field
    assert not Document.objects.filter(owner=citizen).exists()
    assert small_disk.files() == []  # no partial file anywhere

    small_disk.free()  # space again: the same form goes through
    response = client.post(url, uploads())
    assert response.status_code == 302
    assert Document.objects.filter(owner=citizen).count() == 3 and len(small_disk.files()) == 3


def test_disk_full_while_a_worker_stores_a_pdf_fails_retries_later_and_never_half_issues(
    env, settings, small_disk, processes, tmp_path
):
    settings.MEDIA_ROOT = small_disk.path
    worker_env = {**env, "MEDIA_ROOT": str(small_disk.path)}
    station = OfficeFactory()
    application = ApplicationFactory(office=station, status=Status.ACCEPTED)
    worker = processes(Worker(ALL_QUEUES, worker_env, tmp_path / "worker.log"))
    small_disk.fill()
    services.application_approve(application=application, by=StaffFactory(office=station))

    assert poll(lambda: "No space left on device" in worker.output(20000), timeout=90, interval=0.2), worker.output()
    assert "Retry in" in worker.output(20000)  # the task failed and is retried later
    application.refresh_from_db()
    (document,) = documents_of(application)
    assert application.status == Status.APPROVED  # not marked issued
    assert document.status == DocumentStatus.GENERATING and not document.file
    assert small_disk.files() == []  # no partial file

    small_disk.free()
    reaches(application, Status.ISSUED, 120, worker)  # a retry, with no one's help
    assert assert_one_valid_certificate(application, settings).code == document.code
    assert small_disk.files() == [f"private/issued/{document.code}.pdf"]


# --- 7. Two officers at once; a citizen withdrawing while an officer approves ----------------------------------
# (test_transition_race.py races the shared machinery, test_hukou_race.py the hukou steps.)

ROUNDS = 3


def test_two_police_officers_approving_at_once_make_one_approval_and_one_certificate_task(env, redis_server):
    station = OfficeFactory()
    officers = [StaffFactory(office=station) for _ in range(2)]
    for round_number in range(ROUNDS):
        application = ApplicationFactory(office=station, status=Status.ACCEPTED)

        def approve(officer, pk=application.pk):
            mine = Application.objects.get(pk=pk)
            return lambda: services.application_approve(application=mine, by=officer, note=officer.username)

        outcomes = race(*(lambda o=o: approve(o) for o in officers))

        assert sorted(o for _, o in outcomes) == ["TransitionConflict", "won"], outcomes
        application.refresh_from_db()
        (entry,) = application.timeline()
        winner = officers[[o for _, o in outcomes].index("won")]
        assert (application.status, application.certificate_generation) == (Status.APPROVED, 1)
        assert entry.actor == winner and application.decided_by == winner and entry.note == winner.username
        assert redis_server.queue_length("pdf") == round_number + 1  # one certificate task per approval


def test_a_citizen_withdrawing_while_an_officer_approves_one_outcome(env, redis_server):
    station = OfficeFactory()
    officer = StaffFactory(office=station)
    for _ in range(ROUNDS):
        queued_before = redis_server.queue_length("pdf")
        application = ApplicationFactory(office=station, status=Status.ACCEPTED)

        def approve(pk=application.pk):
            mine = Application.objects.get(pk=pk)
            return lambda: services.application_approve(application=mine, by=officer)

        def withdraw(pk=application.pk):
            mine = Application.objects.get(pk=pk)
            return lambda: services.application_withdraw(application=mine, by=mine.applicant)

        outcomes = race(approve, withdraw)

        assert sorted(o for _, o in outcomes) == ["TransitionConflict", "won"], outcomes
        approved = outcomes[0][1] == "won"
        application.refresh_from_db()
        (entry,) = application.timeline()
        if approved:
            assert (application.status, entry.actor, application.certificate_generation) == (
                Status.APPROVED,
                officer,
                1,
            )
        else:
            assert (application.status, entry.actor, application.certificate_generation) == (
                Status.WITHDRAWN,
                application.applicant,
                0,
            )
            assert application.due_date is None and application.decided_by is None
        assert redis_server.queue_length("pdf") == queued_before + approved  # a task only for an approval


def test_two_family_planning_officers_approving_at_once_make_one_document_task(env, redis_server):
    office = OfficeFactory(kind="family_planning", name="金水区卫生健康委员会", name_en="Jinshui Health Commission")
    officers = [StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER) for _ in range(2)]
    for round_number in range(ROUNDS):
        application = FamilyPlanningApplicationFactory(office=office, service="birth_registration", accepted=True)

        def approve(officer, pk=application.pk):
            mine = FamilyPlanningApplication.objects.get(pk=pk)
            return lambda: fp_services.fp_approve(application=mine, by=officer, note=officer.username)

        outcomes = race(*(lambda o=o: approve(o) for o in officers))

        assert sorted(o for _, o in outcomes) == ["TransitionConflict", "won"], outcomes
        application.refresh_from_db()
        winner = officers[[o for _, o in outcomes].index("won")]
        approvals = [t for t in application.timeline() if t.to_status == FpStatus.APPROVED]
        assert len(approvals) == 1 and approvals[0].actor == winner and approvals[0].note == winner.username
        assert application.status == FpStatus.APPROVED and application.decided_by == winner
        assert redis_server.queue_length("pdf") == round_number + 1


def test_a_family_planning_withdrawal_while_an_officer_approves_one_outcome_and_one_message(env, redis_server):
    office = OfficeFactory(kind="family_planning", name="金水区卫生健康委员会", name_en="Jinshui Health Commission")
    officer = StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER)
    for _ in range(ROUNDS):
        application = FamilyPlanningApplicationFactory(
            office=office, service="institution_establishment", accepted=True
        )  # its approval notifies the applicant
        accepted_entries = len(application.timeline())

        def approve(pk=application.pk):
            mine = FamilyPlanningApplication.objects.get(pk=pk)
            return lambda: fp_services.fp_approve(application=mine, by=officer)

        def withdraw(pk=application.pk):
            mine = FamilyPlanningApplication.objects.get(pk=pk)
            return lambda: fp_services.fp_withdraw(application=mine, by=mine.applicant)

        outcomes = race(approve, withdraw)

        assert sorted(o for _, o in outcomes) == ["TransitionConflict", "won"], outcomes
        approved = outcomes[0][1] == "won"
        application.refresh_from_db()
        entries = application.timeline()
        assert len(entries) == accepted_entries + 1  # the winner's entry, and only it
        last = max(entries, key=lambda t: (t.at, t.pk))
        assert last.to_status == application.status == (FpStatus.APPROVED if approved else FpStatus.WITHDRAWN)
        approved_messages = OutboxMessage.objects.filter(user=application.applicant, template="familyplanning/approved")
        assert approved_messages.count() == (2 if approved else 0)  # e-mail and SMS for an approval, else nothing


# --- The harness itself -------------------------------------------------------------------------------------------


def test_pointing_this_process_at_a_private_redis_and_back_leaves_the_main_broker_usable(redis_server):
    """A fault test publishes to its own Redis; the tests after it in the same process publish to the main one.

    Regression: closing the main broker's pool left a closed pool in kombu's registry, and every later publish from
    this process failed with "Acquire on closed pool" (the worker tests that ran after a fault test saw it).
    """
    main = celery_app.conf.broker_url
    with celery_app.producer_or_acquire():
        pass  # the main broker's pool exists, as it does once any earlier test has published
    with publishing_to(redis_server.url()):
        with celery_app.producer_or_acquire() as producer:
            assert producer.connection.as_uri().endswith(f":{redis_server.port}/0")
    assert celery_app.conf.broker_url == main
    with celery_app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(max_retries=1)
        assert producer.connection.as_uri(include_password=False) == celery_app.connection_for_write().as_uri()
