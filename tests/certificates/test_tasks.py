"""certificates.tasks called directly: one certificate per generation, crash recovery, the sweep, the PDF itself."""

import datetime
import hashlib
import io
import shutil
import subprocess

import pytest
import time_machine
from django.utils import timezone, translation
from pypdf import PdfReader

from certificates import services, tasks
from certificates.models import Application, Reason, Status
from portal import pdf
from portal.notify.models import OutboxMessage
from portal.verify import issuing
from portal.verify.models import DocumentStatus, IssuedDocument
from tests.factories import ApplicationFactory, OfficeFactory
from tests.pki import install_signer

pytestmark = pytest.mark.django_db
RARE = "\U000210c1"  # 𡃁


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return install_signer(tmp_path_factory.mktemp("ncr-keys"))


@pytest.fixture(autouse=True)
def environment(settings, tmp_path, keys):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, keys)
    settings.SITE_URL = "https://ga.henan.example"
    with translation.override("en"):
        yield


def issued_files(settings):
    folder = settings.MEDIA_ROOT / "private" / "issued"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_generate_twice_makes_one_certificate_and_one_file(station_a, settings):
    application = ApplicationFactory(office=station_a, approved=True)
    assert tasks.generate_certificate(application.pk, 1) == "issued"
    assert tasks.generate_certificate(application.pk, 1) == "exists"
    [document] = IssuedDocument.objects.all()
    assert document.status == DocumentStatus.VALID and document.kind == services.KIND_CERTIFICATE
    assert document.generation == 1 and document.holder == application.applicant
    assert issued_files(settings) == [f"{document.code}.pdf"]
    data = (settings.MEDIA_ROOT / "private" / document.file.name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == document.sha256 and len(data) == document.size
    application.refresh_from_db()
    assert application.status == Status.ISSUED
    assert services.current_certificate(application=application) == document
    ready = OutboxMessage.objects.filter(template="certificates/ready", user=application.applicant)
    assert ready.count() == 2  # one e-mail, one SMS: the second run notified nobody
    assert all(application.holder_id_number not in m.body for m in ready)


def test_validity_and_issue_dates(station_a):
    application = ApplicationFactory(office=station_a, approved=True)
    with time_machine.travel(datetime.datetime(2026, 11, 30, 10, 0, tzinfo=timezone.get_default_timezone())):
        tasks.generate_certificate(application.pk, 1)
    document = IssuedDocument.objects.get()
    assert document.valid_until == datetime.date(2027, 2, 27)


def test_the_pdf_says_what_a_certificate_must_say_and_is_signed(station_a, settings):
    application = ApplicationFactory(
        office=station_a, holder_name="王小明", reason=Reason.ABROAD, destination_country="新西兰", approved=True
    )
    tasks.generate_certificate(application.pk, 1)
    document = IssuedDocument.objects.get()
    data = (settings.MEDIA_ROOT / "private" / document.file.name).read_bytes()
    text = text_of(data)
    flat = "".join(text.split())
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert "无犯罪记录证明" in flat and "Certificate of No Criminal Record" in text
    assert "王小明" in flat and application.holder_id_number in flat  # the holder's own document: full number
    assert "未发现王小明有犯罪记录" in flat
    assert "出国（境）：新西兰" in flat
    assert document.code in text
    assert "本电子证明与纸质证明具有同等法律效力" in flat
    assert "金水路派出所" in flat
    check = pdf.check_signature(data)
    assert check.ok, check.error

    if shutil.which("pdftoppm") and shutil.which("zbarimg"):
        png = subprocess.run(
            ["pdftoppm", "-png", "-r", "200", "-f", "1", "-l", "1", "-"], input=data, capture_output=True, check=True
        ).stdout
        decoded = subprocess.run(["zbarimg", "--quiet", "--raw", "-"], input=png, capture_output=True).stdout
        assert decoded.decode().strip() == f"https://ga.henan.example/verify/{document.code}/"


def test_a_claimed_but_unstored_certificate_is_completed_with_the_same_code(station_a, settings, monkeypatch):
    application = ApplicationFactory(office=station_a, approved=True)
    original = issuing.issued_document_store

    def crash(**kwargs):
        raise SystemExit("worker killed")  # after the claim, before the file is stored

    monkeypatch.setattr(issuing, "issued_document_store", crash)
    with pytest.raises(SystemExit):
        tasks.generate_certificate(application.pk, 1)
    claimed = IssuedDocument.objects.get()
    assert claimed.status == DocumentStatus.GENERATING and issued_files(settings) == []

    # The sweep leaves fresh approvals alone (their task may still be running) and picks up old ones.
    assert tasks.requeue_missing_certificates() == []
    monkeypatch.setattr(tasks.generate_certificate, "delay", lambda *args: None)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=4)):
        assert tasks.requeue_missing_certificates() == [[application.pk, 1]]

    monkeypatch.setattr(issuing, "issued_document_store", original)
    assert tasks.generate_certificate(application.pk, 1) == "issued"
    [document] = IssuedDocument.objects.all()
    assert document.code == claimed.code and document.status == DocumentStatus.VALID
    assert issued_files(settings) == [f"{document.code}.pdf"]
    assert tasks.requeue_missing_certificates(older_than_minutes=0) == []


def test_a_stored_certificate_whose_status_never_moved_on_is_finished(station_a, monkeypatch):
    application = ApplicationFactory(office=station_a, approved=True)
    monkeypatch.setattr(issuing, "mark_issued", lambda *a: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit):
        tasks.generate_certificate(application.pk, 1)
    monkeypatch.undo()
    assert IssuedDocument.objects.get().status == DocumentStatus.VALID
    monkeypatch.setattr(tasks.generate_certificate, "delay", lambda *args: None)
    assert tasks.requeue_missing_certificates(older_than_minutes=0) == [[application.pk, 1]]
    assert tasks.generate_certificate(application.pk, 1) == "exists"
    application.refresh_from_db()
    assert application.status == Status.ISSUED


def test_sweep_is_bounded_and_skips_what_is_done(station_a, monkeypatch):
    published = []
    monkeypatch.setattr(tasks.generate_certificate, "delay", lambda *a: published.append(a))
    monkeypatch.setattr(tasks.generate_refusal_notice, "delay", lambda *a: published.append(("refusal", *a)))
    waiting = [ApplicationFactory(office=station_a, approved=True) for _ in range(3)]
    ApplicationFactory(office=station_a, issued=True, certificate_generation=1)
    ApplicationFactory(office=station_a, accepted=True)
    refused = ApplicationFactory(office=station_a, refused=True, certificate_generation=1, refusal_reason="x")
    assert tasks.requeue_missing_certificates(older_than_minutes=0, limit=2) == [[waiting[0].pk, 1], [waiting[1].pk, 1]]
    published.clear()
    queued = tasks.requeue_missing_certificates(older_than_minutes=0)
    assert queued == [[a.pk, 1] for a in waiting] + [[refused.pk, 1]]
    assert published[-1] == ("refusal", refused.pk, 1)


def test_early_returns(station_a):
    application = ApplicationFactory(office=station_a, approved=True)
    assert tasks.generate_certificate(application.pk, 2) == "stale-generation"
    assert tasks.generate_certificate(999999, 1) == "missing"
    Application.objects.filter(pk=application.pk).update(status=Status.WITHDRAWN)
    assert tasks.generate_certificate(application.pk, 1) == "not-approved"
    assert not IssuedDocument.objects.exists()


def test_reissue_makes_a_new_certificate_and_the_old_generation_is_not_redone(station_a, officer_a):
    application = ApplicationFactory(office=station_a, approved=True)
    tasks.generate_certificate(application.pk, 1)
    application.refresh_from_db()
    services.certificate_reissue(application=application, by=officer_a, reason="Name spelling corrected.")
    assert tasks.generate_certificate(application.pk, 1) == "stale-generation"
    assert tasks.generate_certificate(application.pk, 2) == "issued"
    old, new = IssuedDocument.objects.order_by("generation")
    assert (old.status, new.status) == (DocumentStatus.REVOKED, DocumentStatus.VALID)
    assert old.code != new.code
    application.refresh_from_db()
    assert application.status == Status.ISSUED
    assert services.current_certificate(application=application) == new


def test_refusal_notice_states_the_reason_and_how_to_object(station_a, settings):
    application = ApplicationFactory(
        office=station_a,
        refused=True,
        certificate_generation=1,
        decided_at=timezone.now(),
        refusal_reason="登记有未封存的犯罪记录。",
    )
    assert tasks.generate_refusal_notice(application.pk, 1) == "issued"
    assert tasks.generate_refusal_notice(application.pk, 1) == "exists"
    [document] = IssuedDocument.objects.all()
    assert document.kind == services.KIND_REFUSAL_NOTICE and document.valid_until is None
    assert services.refusal_notice(application=application) == document
    assert services.current_certificate(application=application) is None
    data = (settings.MEDIA_ROOT / "private" / document.file.name).read_bytes()
    flat = "".join(text_of(data).split())
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert "不予出具无犯罪记录证明通知书" in flat
    assert "登记有未封存的犯罪记录。" in flat
    assert "六十日内" in flat and "行政复议" in flat and "六个月内" in flat and "行政诉讼" in flat
    assert pdf.check_signature(data).ok


def test_hostile_text_in_every_field_is_printed_literally_and_never_fetched(station_a, settings, monkeypatch):
    requested = []
    original_fetch = pdf.fetch_resource

    def spy(url):
        requested.append(url)
        return original_fetch(url)

    monkeypatch.setattr(pdf, "fetch_resource", spy)
    script, image = "<script>alert(1)</script>", '<img src="file:///etc/passwd">'
    name = (f"{script}{RARE}" + "欧" * 60)[:60]
    assert len(name) == 60
    office = OfficeFactory(name=f"派出所{script}", name_en=f"Station {image}")
    application = ApplicationFactory(
        office=office,
        holder_name=name,
        reason=Reason.OTHER,
        reason_other=f"{image}{RARE}其他用途",
        receiving_organisation=f"{script}{image}&amp;公司",
        holder_id_number="410105199001011234<b>",
        approved=True,
    )
    assert tasks.generate_certificate(application.pk, 1) == "issued"
    document = IssuedDocument.objects.get()
    data = (settings.MEDIA_ROOT / "private" / document.file.name).read_bytes()
    flat = "".join(text_of(data).split())
    for value in (
        name,
        f"{image}{RARE}其他用途",
        f"{script}{image}&amp;公司",
        f"派出所{script}",
        "410105199001011234<b>",
    ):
        assert "".join(value.split()) in flat, value
    assert not [url for url in requested if "passwd" in url or url.startswith("file:")]
    assert all(url.startswith(("data:", pdf.PDF_BASE_URL)) for url in requested)
    assert "root:" not in flat
    assert not PdfReader(io.BytesIO(data)).attachments
    assert pdf.check_signature(data).ok
