"""What the family-planning citizen pages hand out and look up: the blank PDF forms (the same definitions as the
online forms, cached), /track/ for these cases, and issued documents: downloaded, cancelled (revoked on /verify/)
and validated (extended)."""

import dataclasses
import datetime
import html as html_lib
import io
import re
import unicodedata

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from familyplanning import catalogue, services
from familyplanning.fields import FieldDef, Kind
from portal.verify.models import DocumentStatus
from tests.factories import FamilyPlanningApplicationFactory, UserFactory
from tests.familyplanning.pages import apply_online, browser, decide, text, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("documents_environment")]
SERVICE_KEYS = list(catalogue.SERVICES)


def flat(value) -> str:
    """Whitespace out and compatibility forms folded, so that wrapped lines and ligatures still match."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))


def pdf_text(data: bytes) -> str:
    return flat("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def online_form_labels(page: str) -> list[str]:
    """Every label of the service's own questions on the online form page (the office is not on the paper form):
    field labels, the legends of option groups, and the options. "Wife – Name" is the group and its part."""
    form = re.search(r'data-testid="application-form">(.*?)</form>', page, re.S).group(1)
    answers = form.split("</fieldset>", 1)[1]  # after the office's fieldset
    labels = []
    for raw in re.findall(r"<(?:label|legend)\b[^>]*>(.*?)</(?:label|legend)>", answers, re.S):
        label = html_lib.unescape(re.sub(r"<[^>]+>", "", raw.replace('<span class="asteriskField">*</span>', "")))
        label = " ".join(label.split())
        if label:
            labels.extend(part for part in label.split(" – ") if part)
    return labels


# --- blank forms ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("key", SERVICE_KEYS)
def test_the_blank_pdf_names_every_field_of_the_online_form(client, citizen, key, language):
    service = catalogue.get_service(key)
    client = browser(client, citizen, language)
    labels = online_form_labels(client.get(url("apply", key)).content.decode())
    assert len(labels) >= len(service.form.fields)  # every definition has at least its label

    response = client.get(url("blank_form", key, language))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{key}-form-{service.form.version}-{language}.pdf"'
    )
    text_of_pdf = pdf_text(response.content)
    missing = [label for label in labels if flat(label) not in text_of_pdf]
    assert not missing, f"{key} ({language}): the blank form lacks {missing}"
    with translation.override(language):
        assert flat(service.title) in text_of_pdf
    assert flat(service.form.version) in text_of_pdf and service.form.date.isoformat() in text_of_pdf


def test_the_blank_pdf_is_cached_and_revalidated_by_its_fingerprint(client):
    target = url("blank_form", "birth_registration_cancellation", "en")
    first = client.get(target)
    etag = first["ETag"]
    assert first.status_code == 200 and first["Cache-Control"] == "public, max-age=3600"
    assert cache.get(f"fp:blank-form:{etag.strip(chr(34))}") == first.content
    # The next download is the cached one, byte for byte (seeded here to tell it from a fresh rendering).
    cache.set(f"fp:blank-form:{etag.strip(chr(34))}", b"%PDF-1.7 cached")
    assert client.get(target).content == b"%PDF-1.7 cached"
    unchanged = client.get(target, headers={"if-none-match": etag})
    assert unchanged.status_code == 304 and unchanged["ETag"] == etag
    assert client.get(url("blank_form", "birth_registration_cancellation", "zh-hans"))["ETag"] != etag


def test_a_field_added_to_the_definition_changes_the_online_form_and_the_blank_pdf(client, citizen, monkeypatch):
    client = browser(client, citizen)
    target = url("blank_form", "practice_licence", "en")
    before = client.get(target)
    label = "Number of ambulances on call"
    assert flat(label) not in pdf_text(before.content)
    assert label not in client.get(url("apply", "practice_licence")).content.decode()

    service = catalogue.get_service("practice_licence")
    changed = service.form.adding(FieldDef("ambulances", label, Kind.INTEGER), section=1)
    monkeypatch.setitem(catalogue.SERVICES, "practice_licence", dataclasses.replace(service, form=changed))

    page = client.get(url("apply", "practice_licence")).content.decode()
    assert 'name="ambulances"' in page and label in online_form_labels(page)
    after = client.get(target, headers={"if-none-match": before["ETag"]})
    assert after.status_code == 200 and after["ETag"] != before["ETag"]  # never the cached old form
    assert flat(label) in pdf_text(after.content)


# --- /track/ ----------------------------------------------------------------------------------------------------------


def track(client, number, factor):
    return client.post(reverse("track"), {"case_number": number, "second_factor": factor})


def test_track_finds_a_family_planning_case_by_last_four_and_says_only_not_found_otherwise(client, office):
    applicant = UserFactory(real_name="欧阳思远")
    application = FamilyPlanningApplicationFactory(office=office, service="practice_licence", applicant=applicant)
    client = browser(client)
    for factor in (applicant.id_number[-4:], applicant.id_number[-4:].lower()):
        found = track(client, application.case_number, factor)
        assert f'data-case="{application.case_number}"' in found.content.decode()
        assert "Submitted, awaiting acceptance" in text(found)
    for factor in ("欧阳思远", "王芳", "0000" if applicant.id_number[-4:] != "0000" else "1111"):
        response = track(client, application.case_number, factor)
        page = text(response)
        assert response.status_code == 200 and "No application matches these details." in page
        assert "data-case=" not in response.content.decode()
        for secret in ("Submitted, awaiting acceptance", str(application.title), "Jinshui", applicant.id_number):
            assert secret not in page
    draft = FamilyPlanningApplicationFactory(office=office, applicant=applicant, draft=True)
    assert "No application matches these details." in text(track(client, draft.case_number, applicant.id_number[-4:]))


def test_the_21st_guess_within_a_minute_is_refused(client, office):
    applicant = UserFactory(real_name="欧阳思远")
    application = FamilyPlanningApplicationFactory(office=office, applicant=applicant)
    client = browser(client)
    with time_machine.travel(datetime.datetime(2026, 11, 18, 2, 0, 5, tzinfo=datetime.UTC), tick=False):
        for guess in range(20):
            response = track(client, application.case_number, f"{guess:04d}")
            assert response.status_code == 200 and "No application matches these details." in text(response)
        refused = track(client, application.case_number, applicant.id_number[-4:])  # even the right answer
        assert refused.status_code == 429
        assert f'data-case="{application.case_number}"' not in refused.content.decode()
    # A minute later the enquiry answers again.
    with time_machine.travel(datetime.datetime(2026, 11, 18, 2, 1, 5, tzinfo=datetime.UTC), tick=False):
        assert (
            f'data-case="{application.case_number}"'
            in track(client, application.case_number, applicant.id_number[-4:]).content.decode()
        )


# --- issued documents ------------------------------------------------------------------------------------------------


def test_the_issued_document_is_downloaded_from_the_progress_page_by_its_holder_only(client, citizen, office, officer):
    client = browser(client, citizen)
    application = apply_online(client, "qualification_certificate", office)
    document = decide(application, officer)
    page = client.get(url("detail", application.case_number))
    content = page.content.decode()
    assert 'data-testid="document" data-state="valid"' in content
    assert document.code in text(page) and reverse("verify:download", args=[document.code]) in content
    download = client.get(reverse("verify:download", args=[document.code]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    other = browser(client.__class__(), UserFactory())
    assert other.get(reverse("verify:download", args=[document.code])).status_code == 404


def test_a_cancellation_revokes_the_earlier_document_and_verify_says_so(client, citizen, office, officer):
    client = browser(client, citizen)
    registration = apply_online(client, "birth_registration", office)
    certificate = decide(registration, officer)
    assert certificate.status == DocumentStatus.VALID
    assert 'data-state="valid"' in client.get(reverse("verify:detail", args=[certificate.code])).content.decode()

    cancellation = apply_online(
        client, "birth_registration_cancellation", office, certificate_number=certificate.code.lower()
    )
    page = client.get(url("detail", cancellation.case_number)).content.decode()
    assert 'data-testid="affected" data-state="valid"' in page and certificate.code in page
    assert decide(cancellation, officer) is None  # a cancellation issues nothing
    certificate.refresh_from_db()
    assert certificate.status == DocumentStatus.REVOKED

    verify_page = client.get(reverse("verify:detail", args=[certificate.code]))
    assert 'data-state="revoked"' in verify_page.content.decode() and "Revoked" in text(verify_page)
    assert client.get(reverse("verify:api", args=[certificate.code])).json()["state"] == "revoked"

    cancelled = client.get(url("detail", cancellation.case_number))
    assert 'data-testid="affected" data-state="revoked"' in cancelled.content.decode()
    assert "Cancellation approved" in text(cancelled)
    original = client.get(url("detail", registration.case_number)).content.decode()
    assert 'data-testid="document" data-state="revoked"' in original
    assert reverse("verify:download", args=[certificate.code]) not in original


def test_a_validation_extends_the_licence_and_the_old_one_is_superseded(client, citizen, office, officer):
    client = browser(client, citizen)
    licence = decide(apply_online(client, "practice_licence", office), officer)
    validation = apply_online(
        client,
        "practice_licence_validation",
        office,
        licence_number=licence.code,
        valid_until=licence.valid_until.isoformat(),
    )
    renewed = decide(validation, officer)
    assert renewed.valid_until == services.add_months(licence.valid_until + datetime.timedelta(days=1), 12) - (
        datetime.timedelta(days=1)
    )
    page = client.get(url("detail", validation.case_number))
    content = page.content.decode()
    assert 'data-testid="document" data-state="valid"' in content
    assert 'data-testid="affected" data-state="revoked"' in content
    assert renewed.valid_until.isoformat() in content and licence.code in content
    assert client.get(reverse("verify:api", args=[licence.code])).json()["state"] == "revoked"
    assert client.get(reverse("verify:api", args=[renewed.code])).json()["state"] == "valid"
