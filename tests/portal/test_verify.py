"""portal.verify: issuing (claim/store/revoke), public verification by code, API and PDF, downloads, admin, /me/."""

import datetime
import hashlib
import os
import uuid

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal import pdf as portal_pdf
from portal.cases.services import next_case_number
from portal.verify import issuing, logbuffer, lookup, pdfverify
from portal.verify.codes import normalize_code
from portal.verify.lookup import State
from portal.verify.models import DocumentStatus, IssuedDocument, IssuedDocumentAccess, VerificationLog
from tests.factories import StaffFactory, UserFactory
from tests.portal.verification import NOW, api, blank_pdf, claim, drained, issue, page, upload
from tests.testapp.models import SampleCase

pytestmark = pytest.mark.usefixtures("english", "media", "signing")


def issued_files(media):
    root = media / "private" / "issued"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


# --- issuing -----------------------------------------------------------------------------------------


def test_claim_twice_gives_one_row_and_one_code(case):
    first, created = claim(case)
    again, created_again = claim(case, title="changed")
    assert created and not created_again
    assert again.pk == first.pk and again.code == first.code and again.title == "无犯罪记录证明"
    assert IssuedDocument.objects.count() == 1
    assert first.status == DocumentStatus.GENERATING
    assert normalize_code(first.code) == first.code and len(first.code) == 24
    second_generation, created = claim(case, generation=2)
    assert created and second_generation.code != first.code
    assert list(issuing.issued_documents_for_source(case)) == [second_generation, first]


def test_claim_recovers_when_another_worker_inserted_first(case, monkeypatch):
    # The other worker's row appears between our look-up and our insert: we get theirs, not an error.
    theirs, _ = claim(case)
    real_filter = IssuedDocument.objects.filter
    calls = {"n": 0}

    def first_lookup_misses(*args, **kwargs):
        calls["n"] += 1
        qs = real_filter(*args, **kwargs)
        return qs.none() if calls["n"] == 1 else qs

    monkeypatch.setattr(IssuedDocument.objects, "filter", first_lookup_misses)
    mine, created = claim(case)
    assert not created and mine.pk == theirs.pk


def test_store_writes_one_private_file_with_its_hash(case, media):
    document, _ = claim(case)
    signed = portal_pdf.sign_pdf(blank_pdf(), reason="test")
    stored = issuing.issued_document_store(document=document, pdf=signed)
    assert stored.status == DocumentStatus.VALID
    assert stored.file.name == f"issued/{stored.code}.pdf"
    assert stored.sha256 == hashlib.sha256(signed).hexdigest() and stored.size == len(signed)
    assert stored.generated_at is not None
    path = media / "private" / "issued" / f"{stored.code}.pdf"
    assert path.read_bytes() == signed
    assert oct(path.stat().st_mode & 0o777) == "0o640"


def test_store_twice_keeps_one_file_and_the_first_hash(case, media):
    document, _ = claim(case)
    first = portal_pdf.sign_pdf(blank_pdf("one"), reason="test")
    second = portal_pdf.sign_pdf(blank_pdf("two"), reason="test")
    assert first != second
    issuing.issued_document_store(document=document, pdf=first)
    again = issuing.issued_document_store(document=document, pdf=second)
    assert again.sha256 == hashlib.sha256(first).hexdigest()
    assert issued_files(media) == [f"{document.code}.pdf"]  # no second file, no leftover temp file
    assert (media / "private" / again.file.name).read_bytes() == first


def test_store_replaces_what_a_killed_worker_left(case, media):
    document, _ = claim(case)
    target = media / "private" / "issued" / f"{document.code}.pdf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"%PDF-1.7 half a fi")  # a worker died after writing, before the status update
    (target.parent / ".issued-dead.part").write_bytes(b"%PDF-")  # or while writing its temp file
    signed = portal_pdf.sign_pdf(blank_pdf(), reason="test")
    stored = issuing.issued_document_store(document=document, pdf=signed)
    assert target.read_bytes() == signed
    assert stored.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()


def test_store_that_loses_the_race_never_replaces_the_winners_file(case, media, monkeypatch):
    document, _ = claim(case)
    winner = portal_pdf.sign_pdf(blank_pdf("winner"), reason="test")
    loser = portal_pdf.sign_pdf(blank_pdf("loser"), reason="test")
    real_fsync = os.fsync

    def other_worker_wins_meanwhile(fd):
        real_fsync(fd)
        monkeypatch.setattr(os, "fsync", real_fsync)
        issuing.issued_document_store(document=IssuedDocument.objects.get(pk=document.pk), pdf=winner)

    monkeypatch.setattr(os, "fsync", other_worker_wins_meanwhile)
    result = issuing.issued_document_store(document=document, pdf=loser)
    assert result.sha256 == hashlib.sha256(winner).hexdigest()
    assert (media / "private" / result.file.name).read_bytes() == winner
    assert issued_files(media) == [f"{document.code}.pdf"]


def test_store_refuses_what_is_not_a_pdf(case):
    document, _ = claim(case)
    with pytest.raises(ValueError):
        issuing.issued_document_store(document=document, pdf=b"<html>")
    document.refresh_from_db()
    assert document.status == DocumentStatus.GENERATING and not document.file


def test_revoke_needs_a_reason_and_records_who_and_when(case, officer_a):
    document, _ = issue(case)
    with pytest.raises(Exception) as excinfo:
        issuing.issued_document_revoke(document=document, by=officer_a, reason="  ")
    assert getattr(excinfo.value, "code", None) == "reason_required"
    with time_machine.travel(NOW, tick=False):
        revoked = issuing.issued_document_revoke(document=document, by=officer_a, reason="issued in error")
    assert revoked.status == DocumentStatus.REVOKED
    assert revoked.revoked_by == officer_a and revoked.revoke_reason == "issued in error"
    assert revoked.revoked_at == NOW
    # Revoking again changes nothing (the first date stays).
    again = issuing.issued_document_revoke(document=revoked, by=officer_a, reason="again")
    assert again.revoked_at == NOW and again.revoke_reason == "issued in error"


def test_revoked_while_generating_is_never_stored(case, officer_a, media):
    document, _ = claim(case)
    issuing.issued_document_revoke(document=document, by=officer_a, reason="reissued")
    stored = issuing.issued_document_store(document=document, pdf=portal_pdf.sign_pdf(blank_pdf(), reason="x"))
    assert stored.status == DocumentStatus.REVOKED and not stored.file
    assert issued_files(media) == []


def test_verify_url_is_the_site_address(case):
    assert issuing.verify_url("ABCD-EFGH-JKMN-PQRS-TVWX") == (
        "https://ezwfw.example.test/verify/ABCD-EFGH-JKMN-PQRS-TVWX/"
    )
    context = issuing.verification_context(claim(case)[0])
    assert context["verification_url"].endswith(f"/verify/{context['verification_code']}/")
    assert context["verification_qr"].startswith("data:image/svg+xml")
    assert context["seal"].startswith("data:image/svg+xml")


# --- verification by code ----------------------------------------------------------------------------


def assert_minimal(response, holder):
    body = response.content.decode()
    assert holder.real_name not in body  # 王小明 is shown as 王*明
    assert holder.id_number not in body and holder.id_number[-4:] + "<" not in body
    assert "13812345678" not in body and "138****5678" not in body


def test_valid_document_page_and_api(client, case, holder):
    document, _ = issue(case)
    response = page(client, document.code)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert 'data-state="valid"' in body
    assert "王*明" in body and "Certificate of No Criminal Record" in body and "Jinshui Road Police Station" in body
    assert "same legal effect as a paper certificate" in body
    assert_minimal(response, holder)

    response = api(client, document.code)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert response.json() == {
        "code": document.code,
        "verdict": "valid",
        "reason": None,
        "reason_text": "Valid, may be accepted: issued by this portal, unaltered, current and not revoked.",
        "public_reason": None,
        "state": "valid",
        "document_type": "Certificate of No Criminal Record",
        "holder": "王*明",
        "issued_on": timezone.localdate(document.issued_at).isoformat(),
        "issuing_office": "Jinshui Road Police Station",
        "valid_until": document.valid_until.isoformat(),
        "revoked_on": None,
    }
    assert_minimal(response, holder)


def test_api_speaks_chinese_by_default(client, case):
    document, _ = issue(case)
    del client.cookies["portal_language"]
    data = api(client, document.code).json()
    assert data["document_type"] == "无犯罪记录证明" and data["issuing_office"] == "金水路派出所"
    body = page(client, document.code).content.decode()
    assert "无犯罪记录证明" in body and "金水路派出所" in body and "王*明" in body


def test_revoked_document_shows_the_date(client, case, officer_a, holder):
    document, _ = issue(case)
    with time_machine.travel(NOW, tick=False):
        issuing.issued_document_revoke(document=document, by=officer_a, reason="reissued")
    response = page(client, document.code)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-state="revoked"' in body and "2026-05-06" in body
    assert "reissued" not in body  # the reason is internal
    assert api(client, document.code).json()["revoked_on"] == "2026-05-06"
    assert api(client, document.code).json()["state"] == "revoked"
    assert_minimal(response, holder)


def test_expired_document(client, case):
    with time_machine.travel(NOW, tick=False):
        document, _ = issue(case, valid_until=datetime.date(2026, 8, 6))
    with time_machine.travel(datetime.datetime(2026, 8, 6, 23, 0, tzinfo=NOW.tzinfo), tick=False):
        assert api(client, document.code).json()["state"] == "valid"  # the last day still counts
    with time_machine.travel(datetime.datetime(2026, 8, 7, 0, 30, tzinfo=NOW.tzinfo), tick=False):
        assert api(client, document.code).json()["state"] == "expired"
        response = page(client, document.code)
    assert 'data-state="expired"' in response.content.decode()


def test_not_found_page_and_api(client, db):
    response = page(client, "ABCD-EFGH-JKMN-PQRS-TVWX")
    assert response.status_code == 404 and 'data-state="not_found"' in response.content.decode()
    response = api(client, "ABCD-EFGH-JKMN-PQRS-TVWX")
    assert response.status_code == 404
    assert response.json()["state"] == "not_found" and response.json()["holder"] is None
    assert api(client, "not-a-code").status_code == 404
    assert page(client, "<script>").status_code == 404
    drained()
    assert VerificationLog.objects.filter(result="not_found", document=None).count() == 4


def test_generating_document_says_only_that(client, case, holder):
    document, _ = claim(case)
    data = api(client, document.code).json()
    assert data["state"] == "generating" and data["holder"] is None and data["document_type"] is None


def test_hand_typed_code_redirects_to_the_canonical_address(client, case):
    document, _ = issue(case)
    typed = document.code.replace("-", "").lower()
    response = page(client, typed)
    assert response.status_code == 301
    assert response["Location"] == reverse("verify:detail", args=[document.code])
    drained()
    assert VerificationLog.objects.count() == 0  # counted once, on the canonical page
    # The API answers any spelling directly.
    assert api(client, typed).json()["code"] == document.code


def test_code_form_redirects_and_reports_malformed_codes(client, case):
    document, _ = issue(case)
    response = client.get(reverse("verify:index"), {"code": document.code.lower()})
    assert response.status_code == 302 and response["Location"] == reverse("verify:detail", args=[document.code])
    response = client.get(reverse("verify:index"), {"code": "12345"})
    assert response.status_code == 400 and "five groups of four" in response.content.decode()
    response = client.get(reverse("verify:index"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "same legal effect as a paper certificate" in response.content.decode()


def test_each_verification_is_logged_and_counted(client, case):
    document, _ = issue(case)
    with time_machine.travel(NOW, tick=False):
        page(client, document.code)
        api(client, document.code, REMOTE_ADDR="203.0.113.9")
    drained()
    document.refresh_from_db()
    assert document.verification_count == 2 and document.last_verified_at == NOW
    logs = list(VerificationLog.objects.order_by("pk").values_list("channel", "result", "client_ip", "document"))
    assert logs == [("page", "valid", "127.0.0.1", document.pk), ("api", "valid", "203.0.113.9", document.pk)]


def statements_of(queries) -> list[str]:
    # On PostgreSQL the look-up is a server-side prepared statement: PREPARE once per session, then EXECUTE.
    kinds = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # The counters' UPDATE starts with its VALUES list (WITH added … UPDATE).
    renamed = {"EXECUTE": "SELECT", "WITH": "UPDATE"}
    return [renamed.get(kind, kind) for kind in kinds if kind != "PREPARE"]


def test_lookup_is_one_select_without_sort_or_transaction(case, settings):
    document, _ = issue(case)
    with CaptureQueriesContext(connection) as queries:
        result = lookup.verify_code(code=document.code, channel="api", ip="127.0.0.1")
    assert result.state == State.VALID and result.office_name == "金水路派出所"
    select = lookup._lookup_by_code._compiled[connection.vendor][0]
    assert select.startswith("SELECT") and "ORDER BY" not in select and "LIMIT 1" in select
    assert '"accounts_office"' in select  # the office's names by join, not a second query
    if connection.vendor == "postgresql":
        assert any(q["sql"].startswith("EXECUTE portal_verify_lookup") for q in queries.captured_queries)
    statements = statements_of(queries)
    if settings.REDIS_URL:
        assert statements == ["SELECT"]  # the log goes to the Redis buffer
    else:
        assert [s for s in statements if s in ("SELECT", "INSERT", "UPDATE")] == ["SELECT", "INSERT", "UPDATE"]


def test_count_update_is_one_query_without_redis(case, settings):
    settings.REDIS_URL = ""
    document, _ = issue(case)
    with CaptureQueriesContext(connection) as queries:
        lookup.verify_code(code=document.code, channel="api", ip="127.0.0.1")
    statements = statements_of(queries)
    # Look-up, log row, one counter UPDATE (savepoints aside: the log and the count commit together).
    assert [s for s in statements if s in ("SELECT", "INSERT", "UPDATE")] == ["SELECT", "INSERT", "UPDATE"]
    update = next(q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("WITH"))
    assert '"verification_count" = "verification_count" + added.n' in update
    document.refresh_from_db()
    assert document.verification_count == 1 and VerificationLog.objects.get().uid is not None


def test_verification_while_redis_is_down_is_written_to_the_database(client, case, settings):
    document, _ = issue(case)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there: connection refused
    with time_machine.travel(NOW, tick=False):
        response = api(client, document.code, REMOTE_ADDR="203.0.113.5")
        # The rate limit fails open rather than taking the page down with Redis.
        assert response.status_code == 200 and response.json()["state"] == "valid"
        assert page(client, document.code).status_code == 200
    log = list(VerificationLog.objects.order_by("pk").values_list("channel", "client_ip", "document", "at"))
    assert log == [("api", "203.0.113.5", document.pk, NOW), ("page", "127.0.0.1", document.pk, NOW)]
    document.refresh_from_db()
    assert document.verification_count == 2 and document.last_verified_at == NOW


def record(document=None, *, at=NOW, result="valid", ip="192.0.2.1", uid=None):
    return {
        "u": uid or uuid.uuid4().hex,
        "d": document.pk if document else None,
        "c": "api",
        "r": result,
        "a": ip,
        "t": at.timestamp(),
    }


def test_ingest_inserts_and_counts_each_record_once(case):
    document, _ = issue(case)
    other, _ = issue(case, generation=2)
    later = NOW + datetime.timedelta(minutes=5)
    batch = [record(document), record(document, at=later), record(other), record(None, result="not_found")]
    batch.append(dict(batch[0]))  # pushed twice (a retried push): one row, one count
    with CaptureQueriesContext(connection) as queries:
        assert logbuffer.verification_log_ingest(records=batch) == 4
    # The documents still there, one INSERT, one UPDATE, whatever the batch size (savepoints aside).
    statements = statements_of(queries)
    assert [s for s in statements if s in ("SELECT", "INSERT", "UPDATE")] == ["SELECT", "INSERT", "UPDATE"]
    # The same batch again (a drainer that died after its commit): nothing new.
    assert logbuffer.verification_log_ingest(records=batch) == 0
    document.refresh_from_db()
    other.refresh_from_db()
    assert (document.verification_count, document.last_verified_at) == (2, later)
    assert (other.verification_count, other.last_verified_at) == (1, NOW)
    assert VerificationLog.objects.count() == 4
    assert set(VerificationLog.objects.values_list("at", flat=True)) == {NOW, later}  # when verified, not stored
    # An older record arriving late never moves last_verified_at back.
    logbuffer.verification_log_ingest(records=[record(document, at=NOW - datetime.timedelta(days=1))])
    document.refresh_from_db()
    assert (document.verification_count, document.last_verified_at) == (3, later)


def test_ingest_drops_records_of_deleted_documents(case):
    document, _ = issue(case)
    gone = record(document)
    gone["d"] = document.pk + 1000
    assert logbuffer.verification_log_ingest(records=[gone, record(document)]) == 1
    assert VerificationLog.objects.get().document == document


def test_rate_limit_answers_429_page_and_json(client, case):
    document, _ = issue(case)
    for _ in range(30):
        assert api(client, document.code).status_code == 200
    response = api(client, document.code)
    assert response.status_code == 429 and response.json()["error"] == "rate_limited"
    assert response["Retry-After"] == "60"
    response = page(client, document.code)
    assert response.status_code == 429 and "Too many requests" in response.content.decode()
    # Another client is not affected.
    assert api(client, document.code, REMOTE_ADDR="198.51.100.7").status_code == 200
    drained()
    document.refresh_from_db()
    assert document.verification_count == 31  # refused requests are not verifications


# --- verification by PDF -----------------------------------------------------------------------------


def test_genuine_pdf(client, case):
    document, signed = issue(case)
    outcome = pdfverify.verify_pdf(pdf=signed, ip="127.0.0.1")
    assert outcome.genuine and outcome.result == "genuine"
    assert outcome.document.code == document.code and outcome.document.state == State.VALID
    response = upload(client, signed)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert 'data-result="genuine"' in body and 'data-verdict="valid"' in body and "王*明" in body
    assert "Valid, may be accepted" in body and "valid, and the file is unaltered since signing" in body
    drained()
    document.refresh_from_db()
    assert document.verification_count == 2
    assert VerificationLog.objects.filter(channel="pdf", result="genuine").count() == 2


def test_genuine_but_revoked_pdf_shows_the_state(client, case, officer_a):
    document, signed = issue(case)
    issuing.issued_document_revoke(document=document, by=officer_a, reason="x")
    outcome = pdfverify.verify_pdf(pdf=signed, ip=None)
    assert outcome.genuine and outcome.document.state == State.REVOKED
    assert 'data-state="revoked"' in upload(client, signed).content.decode()


def test_altered_pdf(client, case):
    _, signed = issue(case)
    altered = bytearray(signed)
    altered[len(signed) // 4] ^= 0x01
    outcome = pdfverify.verify_pdf(pdf=bytes(altered), ip=None)
    assert not outcome.genuine and not outcome.signature_intact and not outcome.hash_matches
    assert outcome.result == "altered" and outcome.document is None
    body = upload(client, bytes(altered)).content.decode()
    assert 'data-result="altered"' in body and "broken — the file was changed after it was signed" in body
    assert 'data-verdict="not_valid"' in body and 'data-reason="altered"' in body


def test_pdf_signed_by_another_key(client, case, settings, foreign_keys, keys):
    issue(case)
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, foreign_keys)
    forged = portal_pdf.sign_pdf(blank_pdf("forged"), reason="forged")
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, keys)
    outcome = pdfverify.verify_pdf(pdf=forged, ip=None)
    assert outcome.signed and outcome.signature_intact and not outcome.signature_valid
    assert not outcome.hash_matches and not outcome.genuine and outcome.result == "bad_signature"
    assert "signed by someone else" in upload(client, forged).content.decode()


def test_validly_signed_pdf_that_was_never_issued(case):
    # Signed with the portal's key but not a stored document (e.g. a re-render): the hash check fails.
    issue(case)
    other = portal_pdf.sign_pdf(blank_pdf("never stored"), reason="x")
    outcome = pdfverify.verify_pdf(pdf=other, ip=None)
    assert outcome.signature_valid and outcome.signature_intact and not outcome.hash_matches
    assert outcome.result == "unknown_hash" and not outcome.genuine


def test_unsigned_pdf_and_wrong_uploads(client, db):
    outcome = pdfverify.verify_pdf(pdf=blank_pdf(), ip=None)
    assert outcome.result == "unsigned"
    response = upload(client, b"GIF89a not a pdf", name="x.pdf")
    assert response.status_code == 400 and "not a PDF" in response.content.decode()
    big = b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024)
    response = upload(client, big)
    assert response.status_code == 400 and "larger than 5 MB" in response.content.decode()
    drained()
    assert not VerificationLog.objects.exclude(result="unsigned").exists()


def test_pdf_uploads_are_rate_limited(client, db):
    data = blank_pdf()
    for _ in range(10):
        assert upload(client, data).status_code == 200
    assert upload(client, data).status_code == 429


# --- download ----------------------------------------------------------------------------------------


def test_holder_downloads_their_pdf(client, case, holder):
    document, signed = issue(case)
    client.force_login(holder)
    response = client.get(reverse("verify:download", args=[document.code]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == signed
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]
    assert IssuedDocumentAccess.objects.count() == 0  # the holder's own downloads are not "views by others"


def test_download_is_404_for_everyone_else(client, case, station_b):
    document, _ = issue(case)
    url = reverse("verify:download", args=[document.code])
    assert client.get(url).status_code == 302  # anonymous: log in first
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    with override_settings(STAFF_MFA_REQUIRED=False):
        client.force_login(StaffFactory(office=station_b))
        assert client.get(url).status_code == 404
    assert client.get(reverse("verify:download", args=["ABCD-EFGH-JKMN-PQRS-TVWX"])).status_code == 404


def test_staff_of_the_issuing_office_download_and_are_logged(client, case, officer_a):
    document, _ = issue(case)
    url = reverse("verify:download", args=[document.code])
    client.force_login(officer_a)
    assert client.get(url).status_code == 404  # without the second factor: no
    with override_settings(STAFF_MFA_REQUIRED=False):
        assert client.get(url).status_code == 200
    access = IssuedDocumentAccess.objects.get()
    assert access.document == document and access.user == officer_a


def test_revoked_or_unfinished_documents_are_not_downloadable_by_the_holder(client, case, holder, officer_a):
    unfinished, _ = claim(case, generation=2)
    document, _ = issue(case)
    issuing.issued_document_revoke(document=document, by=officer_a, reason="x")
    client.force_login(holder)
    assert client.get(reverse("verify:download", args=[document.code])).status_code == 404
    assert client.get(reverse("verify:download", args=[unfinished.code])).status_code == 404


# --- admin and /me/ ----------------------------------------------------------------------------------


def test_admin_lists_only_the_officers_own_office(staff_client, case, officer_a, officer_b, station_b):
    mine, _ = issue(case)
    other_case = SampleCase.objects.create(
        case_number=next_case_number("TST"), applicant=UserFactory(), office=station_b
    )
    theirs, _ = issue(other_case)
    client = staff_client(officer_a)
    response = client.get(reverse("admin:verify_issueddocument_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert mine.code in body and theirs.code not in body
    assert client.get(reverse("admin:verify_issueddocument_change", args=[theirs.pk])).status_code == 404
    response = client.get(reverse("admin:verify_issueddocument_change", args=[mine.pk]))
    assert response.status_code == 200 and reverse("verify:download", args=[mine.code]) in response.content.decode()
    # Searching by a hand-typed code finds it.
    typed = mine.code.replace("-", "").lower()
    response = client.get(reverse("admin:verify_issueddocument_changelist"), {"q": typed})
    assert mine.code in response.content.decode()
    # The verification log is for administrators only.
    assert client.get(reverse("admin:verify_verificationlog_changelist")).status_code == 403


def test_me_lists_certificates_with_verification_counts(client, case, holder):
    document, _ = issue(case)
    with time_machine.travel(NOW, tick=False):
        for _ in range(3):
            api(client, document.code)
    drained()  # /me/ shows what the beat drain has stored (within ~10 s in production)
    client.force_login(holder)
    response = client.get(reverse("me"))
    body = response.content.decode()
    assert "My certificates and licences" in body
    assert f'data-issued="{document.code}"' in body
    assert '<dd class="portal-verified-count">3</dd>' in body
    assert reverse("verify:download", args=[document.code]) in body
    assert "2026-05-06" in body or "6 May 2026" in body


def test_rate_limit_follows_the_setting(client, settings, db):
    settings.VERIFY_RATE_LIMIT = (2, 60)
    codes = ["ABCD-EFGH-JKMN-PQRS-TVW" + c for c in "XYZ"]
    assert [api(client, code).status_code for code in codes] == [404, 404, 429]
