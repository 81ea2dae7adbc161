"""Every staff action separates the message to the applicant from the internal note, which never reaches the
applicant: not their status page, not /track/, not one e-mail or SMS (docs/architecture.md#security-and-privacy)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Office, Role
from certificates import services as ncr
from familyplanning import services as fp
from hukou import post_settlement as hk_post_settlement
from hukou import services as hk
from portal.cases.models import Transition
from portal.notify.models import OutboxMessage
from tests.casework import take_step
from tests.factories import (
    ApplicationFactory,
    FamilyPlanningApplicationFactory,
    MigrationApplicationFactory,
    OfficeFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def secret(step):
    return f"INTERNAL-{step}-only for staff: neighbour says he moved"


def assert_never_reaches_the_applicant(client, application, detail_url, secrets):
    """The applicant's page, /track/ (signed in: everything) and every message queued to anyone about the case."""
    messages = list(OutboxMessage.objects.all())
    assert messages, "the steps queued no message at all: nothing was checked"
    for message in messages:
        for text in secrets:
            assert text not in message.subject + message.body + message.html_body, (message.template, text)
    client.force_login(application.applicant)
    page = client.get(detail_url).content.decode()
    tracked = client.post(
        reverse("track"),
        {"case_number": application.case_number, "second_factor": application.applicant.id_number[-4:]},
    ).content.decode()
    assert f'data-case="{application.case_number}"' in tracked
    for text in secrets:
        assert text not in page and text not in tracked


def test_certificate_steps_keep_internal_notes_from_the_applicant(client, station_a):
    officer = StaffFactory(office=station_a, role=Role.POLICE_OFFICER)
    steps = []
    first = ApplicationFactory(office=station_a, documents=True)
    ncr.application_accept(application=first, by=officer, note="Accepted.", internal_note=secret("accept"))
    ncr.application_request_info(application=first, by=officer, message="Add a photo.", internal_note=secret("info"))
    steps += ["accept", "info"]
    ncr.application_refuse(application=first, by=officer, reason="Record found.", internal_note=secret("refuse"))
    steps.append("refuse")
    second = ApplicationFactory(office=station_a, documents=True)
    ncr.application_accept(application=second, by=officer)
    ncr.application_approve(application=second, by=officer, note="Approved.", internal_note=secret("approve"))
    steps.append("approve")
    secrets = [secret(step) for step in steps]
    assert set(Transition.objects.exclude(internal_note="").values_list("internal_note", flat=True)) == set(secrets)
    for application in (first, second):
        url = reverse("certificates:detail", args=[application.case_number])
        assert_never_reaches_the_applicant(client, application, url, secrets)
    # The public message does reach the applicant's page.
    client.force_login(second.applicant)
    assert "Approved." in client.get(reverse("certificates:detail", args=[second.case_number])).content.decode()


def test_family_planning_steps_keep_internal_notes_from_the_applicant(client):
    office = OfficeFactory(kind="family_planning")
    officer = StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER)
    first = FamilyPlanningApplicationFactory(office=office)
    fp.fp_accept(application=first, by=officer, note="Accepted.", internal_note=secret("accept"))
    fp.fp_request_info(application=first, by=officer, message="Add the date.", internal_note=secret("info"))
    fp.fp_refuse(application=first, by=officer, reason="Not eligible.", internal_note=secret("refuse"))
    second = FamilyPlanningApplicationFactory(
        office=office, service="institution_change"
    )  # approval issues no document: an "approved" message
    fp.fp_accept(application=second, by=officer)
    fp.fp_approve(application=second, by=officer, note="Approved.", internal_note=secret("approve"))
    secrets = [secret(step) for step in ("accept", "info", "refuse", "approve")]
    for application in (first, second):
        url = reverse("familyplanning:detail", args=[application.case_number])
        assert_never_reaches_the_applicant(client, application, url, secrets)


def test_hukou_steps_keep_internal_notes_from_the_applicant(client):
    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    offices = {
        "move_in": OfficeFactory(parent=zhengzhou),
        "municipal": OfficeFactory(kind=Office.Kind.HOUSEHOLD_ADMIN, division_code="410100", parent=zhengzhou),
        "move_out": OfficeFactory(),
    }
    move_in = StaffFactory(office=offices["move_in"])
    municipal = StaffFactory(office=offices["municipal"], role=Role.HOUSEHOLD_ADMIN)
    move_out = StaffFactory(office=offices["move_out"])
    application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    a = application
    hk.hukou_accept(application=a, by=move_in, note="Accepted.", internal_note=secret("accept"))
    hk.hukou_forward(
        application=a, by=move_in, note="Forwarded.", internal_note=secret("forward"), originals_seen_at_counter=True
    )
    hk.hukou_approve(application=a, by=municipal, note="Approved.", internal_note=secret("approve"))
    hk.hukou_report_problem(application=a, by=move_out, problem="Record differs.", internal_note=secret("problem"))
    hk.hukou_resend(application=a, by=move_in, note="Corrected.", internal_note=secret("resend"))
    hk.hukou_register_emigration(
        application=a, by=move_out, emigrated_on=timezone.localdate(), note="Done.", internal_note=secret("emigrate")
    )
    hk.hukou_settle(application=a, by=move_in, internal_note=secret("settle"))
    mover = a.movers.first()
    hk_post_settlement.hukou_record_post_settlement_check(
        application=a,
        by=move_in,
        mover=mover,
        marital_status="married",
        education="senior",
        internal_note=secret("check"),
    )
    second = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    hk.hukou_accept(application=second, by=move_in)
    hk.hukou_request_info(application=second, by=move_in, message="Add a page.", internal_note=secret("info"))
    third = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    hk.hukou_refuse(application=third, by=move_in, reason="Not eligible.", internal_note=secret("refuse"))
    fourth = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    hk.hukou_switch_to_paper(application=fourth, by=move_in, reason="System down.", internal_note=secret("paper"))
    steps = ("accept", "forward", "approve", "problem", "resend", "emigrate", "settle", "check", "info", "refuse")
    secrets = [secret(step) for step in (*steps, "paper")]
    assert Transition.objects.exclude(internal_note="").count() == len(secrets)
    for case in (a, second, third, fourth):
        assert_never_reaches_the_applicant(client, case, reverse("hukou:detail", args=[case.case_number]), secrets)


def test_the_review_page_offers_both_fields_and_shows_the_internal_note_marked(staff_client, station_a):
    officer = StaffFactory(office=station_a, role=Role.POLICE_OFFICER)
    application = ApplicationFactory(office=station_a, documents=True)
    admin = staff_client(officer)
    change = reverse("admin:certificates_application_change", args=[application.pk])
    page = admin.get(change).content.decode()
    assert "Message to the applicant (optional; the applicant will see this)" in page or "申请人可见" in page
    assert 'name="internal_note"' in page
    act = reverse("admin:certificates_application_act", args=[application.pk, "accept"])
    take_step(admin, act, {"seen_status": "submitted", "text": "Welcome.", "internal_note": secret("form")})
    row = Transition.objects.get(to_status="accepted")
    assert (row.note, row.internal_note) == ("Welcome.", secret("form"))
    page = admin.get(change).content.decode()
    assert 'data-testid="internal-note-entry"' in page and secret("form") in page
