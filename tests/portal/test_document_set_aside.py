"""A wrong upload can be taken back: the applicant withdraws it (draft, or while information is requested), the
deciding office sets it aside with a reason, other offices lose it, and its bytes go after the retention period
(docs/architecture.md#security-and-privacy)."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Office, Role
from certificates import services as ncr
from certificates.models import Status as NcrStatus
from hukou import services as hk
from portal.cases.models import Transition
from portal.documents.models import Document
from portal.documents.services import documents_for_case, documents_purge_set_aside
from portal.documents.storage import private_storage
from tests.factories import (
    ApplicationFactory,
    MigrationApplicationFactory,
    OfficeFactory,
    StaffFactory,
    UserFactory,
    attach_documents,
)

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()


def withdraw_url(document, back="/certificates/"):
    return reverse("documents:withdraw", args=[document.public_id]) + f"?next={back}"


# --- the applicant withdraws an upload -------------------------------------------------------------------------------


def test_the_applicant_withdraws_an_upload_of_a_draft(client, station_a):
    application = ApplicationFactory(office=station_a, draft=True)
    photo = attach_documents(application, kinds=("photo",))[0]
    client.force_login(application.applicant)
    section = client.get(reverse("certificates:section", args=[application.case_number, "documents"]))
    assert reverse("documents:withdraw", args=[photo.public_id]) in section.content.decode()
    confirm = client.get(withdraw_url(photo))
    assert confirm.status_code == 200 and 'name="next"' in confirm.content.decode()
    assert Document.objects.get(pk=photo.pk).set_aside_at is None  # asking changes nothing
    done = client.post(reverse("documents:withdraw", args=[photo.public_id]), {"next": "/certificates/"})
    assert done.status_code == 302 and done["Location"] == "/certificates/"
    photo.refresh_from_db()
    assert photo.withdrawn and photo.set_aside_at is not None and photo.set_aside_office is None
    assert not documents_for_case(application).exists()  # no longer counts: the check page asks for a photo again
    assert client.get(photo.get_absolute_url()).status_code == 404  # not even its owner opens it now
    assert private_storage.exists(photo.file.name)  # the bytes wait for the purge
    # A draft is nobody's business: no timeline row.
    assert not Transition.objects.filter(staff_only=True).exists()


def test_the_applicant_withdraws_while_more_information_is_requested(client, station_a):
    officer = StaffFactory(office=station_a)
    application = ApplicationFactory(office=station_a, documents=True)
    ncr.application_accept(application=application, by=officer)
    ncr.application_request_info(application=application, by=officer, message="The photo is someone else's.")
    photo = documents_for_case(application, kind="photo").get()
    client.force_login(application.applicant)
    assert (
        reverse("documents:withdraw", args=[photo.public_id])
        in client.get(reverse("certificates:detail", args=[application.case_number])).content.decode()
    )
    client.post(reverse("documents:withdraw", args=[photo.public_id]))
    photo.refresh_from_db()
    assert photo.withdrawn and photo.set_aside_office == station_a  # the office deciding now
    row = Transition.objects.get(staff_only=True)
    assert row.actor == application.applicant and photo.download_name in row.internal_note


@pytest.mark.parametrize("status", [NcrStatus.SUBMITTED, NcrStatus.ACCEPTED, NcrStatus.REFUSED])
def test_withdrawing_is_refused_in_other_states(client, station_a, status):
    application = ApplicationFactory(office=station_a, status=status, documents=True)
    photo = documents_for_case(application, kind="photo").get()
    client.force_login(application.applicant)
    page = client.get(reverse("certificates:detail", args=[application.case_number])).content.decode()
    assert 'data-testid="withdraw-file"' not in page
    for response in (client.get(withdraw_url(photo)), client.post(withdraw_url(photo))):
        assert response.status_code == 302
    photo.refresh_from_db()
    assert photo.set_aside_at is None


def test_someone_elses_upload_cannot_be_withdrawn(client, station_a):
    application = ApplicationFactory(office=station_a, draft=True)
    photo = attach_documents(application, kinds=("photo",))[0]
    client.force_login(UserFactory())
    assert client.get(withdraw_url(photo)).status_code == 404
    assert client.post(withdraw_url(photo)).status_code == 404
    assert Document.objects.get(pk=photo.pk).set_aside_at is None


# --- the deciding office sets a document aside -----------------------------------------------------------------------


@pytest.fixture
def move(db):
    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    offices = {
        "move_in": OfficeFactory(parent=zhengzhou),
        "municipal": OfficeFactory(kind=Office.Kind.HOUSEHOLD_ADMIN, division_code="410100", parent=zhengzhou),
        "move_out": OfficeFactory(),
    }
    staff = {
        "move_in": StaffFactory(office=offices["move_in"]),
        "municipal": StaffFactory(office=offices["municipal"], role=Role.HOUSEHOLD_ADMIN),
    }
    application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    hk.hukou_accept(application=application, by=staff["move_in"])
    # The municipal administration decides now.
    hk.hukou_forward(application=application, by=staff["move_in"], originals_seen_at_counter=True)
    return application, staff


def set_aside(client, application, document, reason):
    url = reverse("admin:hukou_migrationapplication_set_aside", args=[application.pk, document.public_id])
    return client.post(url, {"reason": reason})


def review(client, application):
    return client.get(reverse("admin:hukou_migrationapplication_change", args=[application.pk])).content.decode()


def test_a_document_set_aside_answers_404_to_other_offices_and_stays_with_the_deciding_office(client, move, no_mfa):
    application, staff = move
    card = documents_for_case(application, kind="id_card").get()
    # The move-in station saw it and may still, until it is set aside.
    client.force_login(staff["move_in"])
    assert client.get(card.get_absolute_url()).status_code == 200
    # The move-in station is not deciding now: it cannot set it aside.
    set_aside(client, application, card, "Someone else's ID card.")
    assert Document.objects.get(pk=card.pk).set_aside_at is None

    client.force_login(staff["municipal"])
    assert 'name="reason"' in review(client, application)
    response = set_aside(client, application, card, "Someone else's ID card, uploaded by mistake.")
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.set_aside_office == application.municipal_office and card.set_aside_by == staff["municipal"]
    page = review(client, application)
    assert "Set aside: Someone else&#x27;s ID card, uploaded by mistake." in page or "Someone else&#x27;s ID" in page
    assert card.get_absolute_url() in page
    assert client.get(card.get_absolute_url()).status_code == 200

    client.force_login(staff["move_in"])
    assert client.get(card.get_absolute_url()).status_code == 404
    assert str(card.public_id) not in review(client, application)

    # Logged for staff: who, when, why; the applicant's timeline does not show the row.
    row = Transition.objects.get(staff_only=True)
    assert row.actor == staff["municipal"] and "uploaded by mistake" in row.internal_note
    client.force_login(application.applicant)
    detail = client.get(reverse("hukou:detail", args=[application.case_number])).content.decode()
    assert "uploaded by mistake" not in detail
    assert not documents_for_case(application, kind="id_card").exists()


def test_set_aside_needs_a_reason(client, move, no_mfa):
    application, staff = move
    card = documents_for_case(application, kind="id_card").get()
    client.force_login(staff["municipal"])
    set_aside(client, application, card, "  ")
    assert Document.objects.get(pk=card.pk).set_aside_at is None


# --- the purge ---------------------------------------------------------------------------------------------------


def test_the_bytes_go_after_the_retention_period_and_not_before(client, move, settings, no_mfa):
    settings.DOCUMENT_SET_ASIDE_RETENTION_DAYS = 30
    application, staff = move
    card = documents_for_case(application, kind="id_card").get()
    kept = documents_for_case(application, kind="booklet").first()
    start = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=TZ)
    with time_machine.travel(start, tick=False):
        client.force_login(staff["municipal"])
        set_aside(client, application, card, "Someone else's ID card.")
    card.refresh_from_db()
    name = card.file.name
    with time_machine.travel(start + datetime.timedelta(days=29, hours=23), tick=False):
        assert documents_purge_set_aside() == 0
        assert private_storage.exists(name)
        client.force_login(staff["municipal"])  # a session lasts hours, not weeks
        assert client.get(card.get_absolute_url()).status_code == 200
    with time_machine.travel(start + datetime.timedelta(days=30, minutes=1), tick=False):
        from portal.documents.tasks import purge_set_aside

        assert purge_set_aside() == 1
        assert documents_purge_set_aside() == 0  # once
    assert not private_storage.exists(name)
    card.refresh_from_db()
    assert card.purged_at is not None and card.set_aside_reason == "Someone else's ID card."
    client.force_login(staff["municipal"])
    assert client.get(card.get_absolute_url()).status_code == 404
    assert private_storage.exists(kept.file.name)  # a document in use is never touched
