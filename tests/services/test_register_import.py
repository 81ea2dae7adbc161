"""Register imports in a real Celery worker on PostgreSQL and Redis: a worker killed mid-import leaves the register
as it was and the job failed (then it runs again), and the officers' checks answer from the old register until the
swap."""

import datetime
import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from accounts import idnumber
from accounts.models import Role
from certificates.models import CriminalRecord, ImportKind, ImportOutcome, ImportPhase, RegisterImport
from certificates.register import (
    register_import_restart,
    register_import_start,
    register_import_sweep,
    register_matches,
    run_import_job,
    stage_table_name,
)
from portal import celery_app
from tests.factories import StaffFactory

from .harness import Worker, poll, process_env

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
HEADER = "record_id,id_number,name,offence,court,judgment_date,sentence,sentence_months,age_at_offence"
CHUNK_ROWS = 2000


def number_for(i: int, area="410105") -> str:
    day = datetime.date(1960, 1, 1) + datetime.timedelta(days=i % 12000)  # born by 1992: 20 or older in 2020
    body = f"{area}{day:%Y%m%d}{i % 1000:03d}"
    return body + idnumber.check_character(body)


def register_file(count: int, prefix: str, start: int = 0, area="410105") -> bytes:
    lines = [HEADER]
    lines += [
        f"{prefix}{i:08d},{number_for(i, area)},张三,盗窃罪,郑州市金水区人民法院,2020-06-01,有期徒刑二年,24,20"
        for i in range(start, start + count)
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def private_queue():
    """Publish to, and consume from, a queue of this test's own (other runs may share the Redis database)."""
    name = f"test-register-{uuid.uuid4().hex[:12]}"
    old_default, old_routes = celery_app.conf.task_default_queue, celery_app.conf.task_routes
    celery_app.conf.task_default_queue = name
    celery_app.conf.update(task_routes={})
    try:
        yield name
    finally:
        celery_app.conf.task_default_queue = old_default
        celery_app.conf.update(task_routes=old_routes)
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(name)


@pytest.fixture
def worker_env(tmp_path, settings):
    """The worker's environment as harness.process_env makes it (production settings, this tier's stand-ins)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return process_env(
        settings,
        SECRET_KEY="services-tier-" + uuid.uuid4().hex,
        CONN_MAX_AGE="0",
        LOG_FORMAT="json",
        REGISTER_IMPORT_CHUNK_ROWS=str(CHUNK_ROWS),
    )


@pytest.fixture
def administrator(db):
    return StaffFactory(role=Role.ADMINISTRATOR, office=None)


def start(data: bytes, by) -> RegisterImport:
    return register_import_start(file=SimpleUploadedFile("register.csv", data, "text/csv"), kind=ImportKind.FULL, by=by)


def seed_register(by, count=50) -> list[str]:
    """The register before the test's import, loaded in this process through the same job code."""
    job = start(register_file(count, "OLD", area="410106"), by)  # numbers the new files lack
    assert run_import_job(job.pk) == "imported"
    return sorted(CriminalRecord.objects.values_list("record_id", flat=True))


def job_state(pk):
    return RegisterImport.objects.values_list("phase", "rows_read").get(pk=pk)


def stage_exists(pk) -> bool:
    return stage_table_name(pk) in connection.introspection.table_names()


def test_a_worker_killed_mid_import_leaves_the_register_and_the_job_can_run_again(
    private_queue, worker_env, tmp_path, administrator
):
    assert connection.vendor == "postgresql"
    old = seed_register(administrator)
    first = Worker(private_queue, worker_env, tmp_path / "worker-1.log")
    second = None
    try:
        first.wait_ready()
        job = start(register_file(200_000, "NEW"), administrator)  # commits, then publishes

        def loading():
            phase, rows = job_state(job.pk)
            return phase == ImportPhase.LOADING and rows >= 3 * CHUNK_ROWS

        assert poll(loading, timeout=60, interval=0.05), first.output()
        first.kill()
        phase, rows = job_state(job.pk)
        assert phase == ImportPhase.LOADING and rows < 200_000, "the import finished before it could be killed"
        assert sorted(CriminalRecord.objects.values_list("record_id", flat=True)) == old
        assert stage_exists(job.pk)  # what the dead worker left

        # The beat's sweep: nobody holds the import lock any more, so the job's worker is dead.
        assert poll(lambda: register_import_sweep()["failed"] == [job.pk], timeout=30, interval=0.5)
        job.refresh_from_db()
        assert (job.phase, job.outcome) == (ImportPhase.FAILED, ImportOutcome.FAILED)
        assert not stage_exists(job.pk)
        assert sorted(CriminalRecord.objects.values_list("record_id", flat=True)) == old

        second = Worker(private_queue, worker_env, tmp_path / "worker-2.log")
        second.wait_ready()
        again = register_import_restart(job=job, by=administrator)

        def finished():
            again.refresh_from_db()
            return again.phase in RegisterImport.FINISHED_PHASES

        assert poll(finished, timeout=180, interval=0.5), second.output()
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert again.outcome == ImportOutcome.IMPORTED, (again.error, again.rejections)
    assert again.rows_imported == CriminalRecord.objects.count() == 200_000
    assert not CriminalRecord.objects.filter(record_id__startswith="OLD").exists()
    assert register_import_sweep() == {"failed": [], "dropped": [], "requeued": []}


def test_officers_checks_answer_from_the_old_register_until_the_swap(
    private_queue, worker_env, tmp_path, administrator
):
    seed_register(administrator)
    data = register_file(150_000, "NEW", start=200_000)
    old_number = number_for(7, area="410106")  # only in the old register
    [old_record] = register_matches(id_number=old_number)
    new_number = number_for(349_999)  # only in the new one
    in_new = sum(number_for(i) == new_number for i in range(200_000, 350_000))
    assert not register_matches(id_number=new_number)
    worker = Worker(private_queue, worker_env, tmp_path / "worker.log")
    seen, timings = {}, []
    try:
        worker.wait_ready()
        job = start(data, administrator)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            phase = RegisterImport.objects.values_list("phase", flat=True).get(pk=job.pk)
            began = time.perf_counter()
            old, new = register_matches(id_number=old_number), register_matches(id_number=new_number)
            timings.append(time.perf_counter() - began)
            seen.setdefault(phase, set()).add((len(old), len(new)))
            if phase in RegisterImport.FINISHED_PHASES:
                break
            time.sleep(0.01)
    finally:
        worker.stop()
    job.refresh_from_db()
    assert job.outcome == ImportOutcome.IMPORTED, (job.error, worker.output())
    # While the job loaded (and until it swapped), every check saw the old register: the old record, not the new one.
    assert seen.get(ImportPhase.LOADING) == {(1, 0)}, seen
    assert seen[ImportPhase.DONE] == {(0, in_new)}, seen
    assert register_matches(id_number=old_number) == [] and old_record.record_id.startswith("OLD")
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    assert len(timings) > 50 and p99 < 1.0, (len(timings), p99)  # never held up by the import (the bench measures)
