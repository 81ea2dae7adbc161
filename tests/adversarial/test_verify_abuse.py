"""Public verification under abuse: enumeration throttled per real client, never cached, never framed, and nothing
shown beyond the masked minimum (document type, masked name, dates, issuing office, state)."""

import datetime
import json
import secrets

import pytest
from django.test import Client
from django.urls import reverse

from portal.verify.codes import ALPHABET, format_code
from portal.verify.issuing import issued_document_claim, issued_document_revoke, issued_document_store
from portal.verify.logbuffer import verification_log_drain
from portal.verify.models import VerificationLog
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 5


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.VERIFY_RATE_LIMIT = (LIMIT, 60)


def random_code():
    return format_code("".join(secrets.choice(ALPHABET) for _ in range(20)))


@pytest.fixture
def issued(station_a, no_tasks):
    station_a.address = "郑州市金水区金水路 99 号"
    station_a.phone = "0371-12345678"
    station_a.save()
    holder = UserFactory(real_name="欧阳小明", mobile="+8613812345678", email="holder@example.test", username="ouyang")
    application = ApplicationFactory(office=station_a, applicant=holder, status="issued", certificate_generation=1)
    document, _ = issued_document_claim(
        source=application,
        generation=1,
        kind="ncr_certificate",
        title="无犯罪记录证明",
        title_en="Certificate of No Criminal Record",
        holder=holder,
        holder_name=holder.real_name,
        issuing_office=station_a,
        valid_until=datetime.date(2030, 1, 1),
    )
    issued_document_store(document=document, pdf=b"%PDF-1.7\n%%EOF\n")
    return document, application, holder


def page(code):
    return reverse("verify:detail", args=[code])


def api(code):
    return reverse("verify:api", args=[code])


# --- enumeration --------------------------------------------------------------------------------------------


LOOKUPS = {
    "page": lambda client, code: client.get(page(code)),
    "api": lambda client, code: client.get(api(code)),
    "code_form": lambda client, code: client.get(reverse("verify:index"), {"code": code}),
}


@pytest.mark.parametrize("channel", LOOKUPS.keys())
def test_enumeration_is_answered_with_429(channel):
    client = Client()
    for _ in range(LIMIT):
        assert LOOKUPS[channel](client, random_code()).status_code in (302, 404)
    response = LOOKUPS[channel](client, random_code())
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    if channel == "api":
        assert response.json()["error"] == "rate_limited"


def test_alternating_page_api_and_hand_typed_spellings_share_one_budget(issued):
    document, *_ = issued
    client = Client()
    requests = [
        lambda: client.get(page(random_code())),
        lambda: client.get(api(random_code())),
        lambda: client.get(page(document.code.lower().replace("-", ""))),  # the redirecting spelling counts too
        lambda: client.get(reverse("verify:index"), {"code": random_code()}),
    ]
    statuses = [requests[i % len(requests)]().status_code for i in range(LIMIT)]
    assert 429 not in statuses
    assert client.get(page(document.code)).status_code == 429  # even a genuine code, once over the limit


@pytest.mark.parametrize("proxies", [0, 1], ids=["direct", "behind_one_proxy"])
def test_forged_forwarded_for_does_not_reset_the_budget(settings, proxies):
    settings.TRUSTED_PROXY_COUNT = proxies
    client = Client()
    for i in range(LIMIT + 1):
        forwarded = f"198.51.100.{i}, 203.0.113.5" if proxies else f"198.51.100.{i}"
        response = client.get(api(random_code()), REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 429


def logged():
    verification_log_drain()  # with Redis the log is buffered there first; without it this does nothing
    return VerificationLog.objects.count()


def test_requests_past_the_limit_are_not_looked_up_or_logged():
    client = Client()
    for _ in range(LIMIT):
        client.get(api(random_code()))
    within = logged()
    for _ in range(10):
        assert client.get(api(random_code())).status_code == 429
    assert logged() == within == LIMIT


# --- caching and framing -----------------------------------------------------------------------------------

RESPONSES = {
    "page_found": lambda client, doc: client.get(page(doc.code)),
    "page_not_found": lambda client, doc: client.get(page(random_code())),
    "api_found": lambda client, doc: client.get(api(doc.code)),
    "api_not_found": lambda client, doc: client.get(api(random_code())),
    "index": lambda client, doc: client.get(reverse("verify:index")),
    "pdf_check": lambda client, doc: client.post(reverse("verify:index"), {"pdf": _pdf_upload()}),
    "rate_limited": lambda client, doc: [client.get(api(random_code())) for _ in range(LIMIT + 1)][-1],
}


def _pdf_upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("c.pdf", b"%PDF-1.7\n%%EOF\n", content_type="application/pdf")


@pytest.mark.parametrize("kind", RESPONSES.keys())
def test_no_verification_response_is_stored_by_caches(issued, kind):
    response = RESPONSES[kind](Client(), issued[0])
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert "no-store" in directives and "public" not in directives


@pytest.mark.parametrize("kind", ["page_found", "page_not_found", "api_found", "index", "rate_limited"])
def test_verification_responses_refuse_framing(issued, kind):
    response = RESPONSES[kind](Client(), issued[0])
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


# --- the masked minimum -------------------------------------------------------------------------------


def forbidden_values(document, application, holder):
    office = document.issuing_office
    return [
        holder.real_name,
        holder.id_number,
        holder.mobile,
        holder.mobile[3:],
        holder.email,
        holder.username,
        application.case_number,
        office.address,
        office.phone,
        document.sha256,
    ]


def test_page_shows_nothing_beyond_the_masked_minimum(client, issued):
    document, application, holder = issued
    html = client.get(page(document.code)).content.decode()
    assert "欧**明" in html
    for value in forbidden_values(document, application, holder):
        assert value not in html, value


def test_json_has_exactly_the_minimum_fields(client, issued):
    document, application, holder = issued
    response = client.get(api(document.code))
    data = response.json()
    assert set(data) == {
        "code",
        "verdict",
        "reason",
        "reason_text",
        "public_reason",
        "state",
        "document_type",
        "holder",
        "issued_on",
        "issuing_office",
        "valid_until",
        "revoked_on",
    }
    assert data["holder"] == "欧**明" and data["state"] == "valid" and data["verdict"] == "valid"
    raw = json.dumps(data, ensure_ascii=False)
    for value in forbidden_values(document, application, holder):
        assert value not in raw, value
    assert response["Content-Type"].startswith("application/json") and response["X-Content-Type-Options"] == "nosniff"


def test_revoked_document_shows_no_reason(client, issued, officer_a):
    document, application, holder = issued
    issued_document_revoke(document=document, by=officer_a, reason=f"持有人 {holder.id_number} 提供虚假材料")
    html = client.get(page(document.code)).content.decode()
    data = client.get(api(document.code)).json()
    assert data["state"] == "revoked" and data["revoked_on"]
    for text in (html, json.dumps(data, ensure_ascii=False)):
        assert "虚假材料" not in text and holder.id_number not in text


def test_pdf_decompression_bomb_at_the_public_check_is_answered_quickly(client):
    import time

    from django.core.files.uploadedfile import SimpleUploadedFile

    from .payloads import decompression_bomb_pdf

    started = time.perf_counter()
    response = client.post(
        reverse("verify:index"), {"pdf": SimpleUploadedFile("c.pdf", decompression_bomb_pdf(), "application/pdf")}
    )
    assert time.perf_counter() - started < 10
    assert response.status_code == 200
    assert 'data-result="unsigned"' in response.content.decode()


def test_hostile_code_in_the_address_is_not_reflected(client):
    hostile = '"><img src=x onerror=alert(1)><svg onload=alert(2)>'  # no "/": it must reach the views
    response = client.get(f"/verify/{hostile}/")
    assert response.status_code == 404
    assert "<img src=x" not in response.content.decode() and "<svg onload" not in response.content.decode()
    api_response = client.get(f"/api/verify/{hostile}/")
    assert api_response.status_code == 404
    assert api_response["Content-Type"].startswith("application/json")
    assert api_response["X-Content-Type-Options"] == "nosniff"


# --- the progress enquiry (/track/) --------------------------------------------------------------------------


def test_progress_enquiry_guessing_is_answered_with_429(station_a, no_tasks):
    application = ApplicationFactory(office=station_a, status="submitted")
    client = Client()
    statuses = []
    for guess in range(25):  # the last four ID characters, guessed
        response = client.post(
            reverse("track"),
            {"case_number": application.case_number, "second_factor": f"{guess:04d}"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{guess}",
        )
        statuses.append(response.status_code)
    assert 429 in statuses and statuses.index(429) <= 20


def test_progress_enquiry_shows_the_state_never_the_notes_or_identity(client, station_a, officer_a, no_tasks):
    from certificates import services
    from portal.cases.deadlines import clock_start

    holder = UserFactory(real_name="欧阳小明")
    application = ApplicationFactory(office=station_a, applicant=holder, status="accepted", **clock_start(3))
    secret_note = f"请补充身份证 {holder.id_number} 的复印件"
    services.application_request_info(application=application, by=officer_a, message=secret_note)
    last_four = holder.id_number[-4:]
    response = client.post(reverse("track"), {"case_number": application.case_number, "second_factor": last_four})
    html = response.content.decode()
    # A certificate case shows its stage alone to anyone signed out (docs/architecture.md#security-and-privacy).
    assert application.case_number in html and "Being reviewed" in html and "More information requested" not in html
    for value in (secret_note, holder.id_number, holder.mobile, holder.email, "欧阳小明" + "</dd>"):
        assert value not in html, value
