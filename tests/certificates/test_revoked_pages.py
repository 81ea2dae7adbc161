"""After a revocation or a reissue every page of the holder's says so, with the date and the public reason."""

import datetime

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from certificates import services
from certificates.apps import find_for_track
from certificates.models import Application, Status
from portal.cases.models import Transition
from portal.notify.models import OutboxMessage
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 5, 6, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
PUBLIC = "The register was updated after the certificate was issued."
INTERNAL = "Internal: court judgment 2026-17 entered late by the court."


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def revoked(station_a, officer_a, client):
    application = ApplicationFactory(office=station_a, issued=True, certificate=True)
    document = services.current_certificate(application=application)
    with time_machine.travel(NOW - datetime.timedelta(days=1), tick=False):
        Transition.objects.create(
            content_type=ContentType.objects.get_for_model(Application),
            object_id=application.pk,
            from_status=Status.APPROVED,
            to_status=Status.ISSUED,
            note=document.code,
        )
    with time_machine.travel(NOW, tick=False):
        services.certificate_revoke(application=application, by=officer_a, reason=INTERNAL, public_reason=PUBLIC)
    document.refresh_from_db()
    client.cookies["portal_language"] = "en"
    client.force_login(application.applicant)
    return application, document


def test_case_page_says_revoked_with_date_and_public_reason(client, revoked):
    application, document = revoked
    html = client.get(reverse("certificates:detail", args=[application.case_number])).content.decode()
    assert 'data-testid="status">Certificate revoked<' in html
    assert "was revoked on 6 May 2026" in html and PUBLIC in html and INTERNAL not in html
    assert 'data-testid="certificate-download"' not in html


def test_the_timeline_has_one_issued_step_then_the_revocation(client, revoked):
    application, document = revoked
    entries = services.timeline_entries(application)
    labels = [str(e["label"]) for e in entries]
    assert labels == ["Certificate issued", "Certificate revoked"]
    assert PUBLIC in entries[-1]["note"] and INTERNAL not in entries[-1]["note"]
    html = client.get(reverse("certificates:detail", args=[application.case_number])).content.decode()
    assert html.count("<strong>Certificate issued</strong>") == 1
    assert "<strong>Certificate revoked</strong>" in html
    # The progress enquiry too, as its signed-in applicant sees it (anonymously an NCR case shows only its stage).
    found = find_for_track(application.case_number).summary
    assert found.status_label == "Certificate revoked"
    assert [label for _at, label in found.timeline] == ["Certificate issued", "Certificate revoked"]


def test_me_agrees_with_itself(client, revoked):
    application, document = revoked
    html = client.get(reverse("me")).content.decode()
    case_card = html[html.index(f'data-case="{application.case_number}"') :]
    case_card = case_card[: case_card.index("</article>")]
    assert "Certificate revoked" in case_card and "Certificate issued" not in case_card
    wallet = html[html.index(f'data-issued="{document.code}"') :]
    wallet = wallet[: wallet.index("</article>")]
    assert 'data-status="revoked"' in wallet and "Revoked" in wallet and PUBLIC in wallet
    assert timezone.localdate(document.revoked_at).isoformat() in wallet and INTERNAL not in html


def test_the_holders_message_carries_the_public_reason_only(revoked):
    application, document = revoked
    messages = OutboxMessage.objects.filter(template="certificates/revoked", user=application.applicant)
    assert messages.exists()
    for message in messages:
        assert INTERNAL not in message.body
    assert any(PUBLIC in m.body for m in messages)


def test_a_reissued_certificate_is_superseded(client, station_a, officer_a, monkeypatch):
    from certificates import tasks

    monkeypatch.setattr(tasks.generate_certificate, "delay", lambda *a: None)
    application = ApplicationFactory(office=station_a, issued=True, certificate=True)
    old = services.current_certificate(application=application)
    services.certificate_reissue(application=application, by=officer_a, reason="Name corrected.")
    old.refresh_from_db()
    assert old.status == "revoked" and old.superseded
    client.cookies["portal_language"] = "en"
    client.force_login(application.applicant)
    wallet = client.get(reverse("me")).content.decode()
    wallet = wallet[wallet.index(f'data-issued="{old.code}"') :]
    assert 'data-status="superseded"' in wallet[: wallet.index("</article>")]
    data = client.get(reverse("verify:api", args=[old.code])).json()
    assert (data["verdict"], data["reason"]) == ("not_valid", "superseded")


def test_the_revoke_form_asks_for_both_reasons_and_says_where_they_appear(staff_client, officer_a, station_a):
    application = ApplicationFactory(office=station_a, issued=True, certificate=True)
    client = staff_client(officer_a)
    client.cookies["portal_language"] = "en"
    html = client.get(reverse("admin:certificates_application_change", args=[application.pk])).content.decode()
    form = html[html.index('data-testid="ncr-action-revoke"') :]
    form = form[: form.index("</form>")]
    assert 'name="text"' in form and 'name="public_text"' in form
    assert "never shown to the holder or to verifiers" in form
    assert "to everyone who verifies the certificate" in form
