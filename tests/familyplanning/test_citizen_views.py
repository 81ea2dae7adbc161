"""The citizen's pages under /familyplanning/: every service's online form from submission back, drafts, errors that
keep what was typed, ownership, the progress page, and the status wording of services that issue no document."""

import dataclasses
import re

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from accounts.phone import display_mobile
from familyplanning import catalogue, services
from familyplanning.fields import ADDRESS_PARTS, Kind
from familyplanning.models import FamilyPlanningApplication, Status
from portal.cases.deadlines import clock_start
from tests.factories import FamilyPlanningApplicationFactory, OfficeFactory, UserFactory, make_id_number, sample_answers
from tests.familyplanning.pages import form_data, html, text, url

pytestmark = pytest.mark.django_db
SERVICE_KEYS = list(catalogue.SERVICES)


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path, monkeypatch):
    from familyplanning import tasks

    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    # The approval's on_commit publish is not what these tests are about.
    monkeypatch.setattr(tasks.generate_document, "delay", lambda *a: None)
    with translation.override("en"):
        yield


@pytest.fixture
def signed_in(client, citizen):
    client.force_login(citizen)
    return client


def input_value(response, name) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html(response))
    if match is None:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


# --- catalogue and guides ------------------------------------------------------------------------------------


def test_the_catalogue_lists_every_service_under_its_group(client):
    response = client.get(url("index"))
    assert response.status_code == 200
    page = html(response)
    for group in catalogue.ServiceGroup:
        section = re.search(rf'data-group="{group.value}">(.*?)</section>', page, re.S).group(1)
        keys = re.findall(r'data-service="([a-z_]+)"', section)
        assert keys == [s.key for s in catalogue.services_in(group.value)]
    assert sorted(re.findall(r'data-service="([a-z_]+)"', page)) == sorted(SERVICE_KEYS)


@pytest.mark.parametrize("key", SERVICE_KEYS)
def test_each_guide_gives_conditions_materials_time_limit_legal_basis_document_and_forms(client, key):
    service = catalogue.get_service(key)
    response = client.get(url("guide", key))
    assert response.status_code == 200
    page = text(response)
    for line in (*service.guide.conditions, *service.guide.materials, *service.guide.legal_basis):
        assert str(line) in page
    assert f"{service.guide.time_limit} working day" in page
    kind = service.issues or service.affects
    if kind:
        assert str(catalogue.DocumentKind(kind).label) in page
    else:
        assert "The office's decision" in page
    links = html(response)
    assert url("blank_form", key, "zh-hans") in links and url("blank_form", key, "en") in links
    # A visitor is sent to log in first, and comes back to the form.
    assert f"{reverse('accounts:login')}?next={url('apply', key)}" in links
    assert service.form.version in page


def test_an_unknown_service_or_case_is_a_404(signed_in):
    assert signed_in.get("/familyplanning/services/no_such_service/").status_code == 404
    assert signed_in.get("/familyplanning/services/birth_registration/blank-form-fr.pdf").status_code == 404
    assert signed_in.get("/familyplanning/FP-20261118-99999/").status_code == 404


# --- every service's online form, through to submission ----------------------------------------------------------


@pytest.mark.parametrize("key", SERVICE_KEYS)
def test_every_services_form_renders_and_submits(signed_in, citizen, office, key):
    service = catalogue.get_service(key)
    response = signed_in.get(url("apply", key))
    assert response.status_code == 200
    page = html(response)
    for definition in service.form.fields:
        for name in definition.form_field_names:
            if definition.kind == Kind.ADDRESS:  # in parts: province, city, district, street, detail
                assert all(f'name="{name}_{part}"' in page for part in ADDRESS_PARTS), name
            else:
                assert f'name="{name}"' in page, name
    assert re.search(rf'<option value="{office.pk}"[ >]', page)  # the office picker adds data-city and the like

    answers = sample_answers(key)
    response = signed_in.post(url("apply", key), {**form_data(key, answers), "office": office.pk, "action": "continue"})
    application = FamilyPlanningApplication.objects.get(applicant=citizen)
    assert response.status_code == 302 and response.url == url("check", application.case_number)
    assert application.status == Status.DRAFT and application.service == key and application.office == office
    assert application.answers == answers

    check = signed_in.get(url("check", application.case_number))
    assert check.status_code == 200 and 'data-testid="problems"' not in html(check)
    response = signed_in.post(url("check", application.case_number), {"declaration": "on"})
    assert response.status_code == 302 and response.url == url("submitted", application.case_number)
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED and application.declaration_at is not None
    confirmation = signed_in.get(response.url)
    assert application.case_number in text(confirmation)
    assert str(service.title) in text(confirmation)


def test_the_form_is_filled_from_the_account_where_it_asks_for_the_applicants_own_data(signed_in, citizen):
    response = signed_in.get(url("apply", "qualification_certificate"))
    assert input_value(response, "applicant_name") == citizen.real_name
    assert input_value(response, "applicant_id_number") == citizen.id_number
    # Shown as people write it (138 1234 5679); the form cleans it back to the stored number.
    assert input_value(response, "mobile") == display_mobile(citizen.mobile) != citizen.mobile
    # Which spouse the citizen is follows from the sex in their ID number: that spouse's part is theirs.
    response = signed_in.get(url("apply", "birth_registration"))
    role, other = ("wife", "husband") if citizen.sex == "F" else ("husband", "wife")
    assert input_value(response, f"{role}_name") == citizen.real_name
    assert input_value(response, f"{role}_id_number") == citizen.id_number
    assert input_value(response, f"{role}_mobile") == display_mobile(citizen.mobile)
    assert input_value(response, f"{other}_name") == "" and input_value(response, f"{other}_mobile") == ""


# --- drafts and errors ----------------------------------------------------------------------------------------------


def test_a_draft_keeps_what_was_typed_and_the_check_page_lists_what_is_missing(signed_in, citizen, office):
    wife_id = make_id_number(sex="F")
    response = signed_in.post(
        url("apply", "birth_registration"),
        {"office": office.pk, "wife_name": "陈静", "wife_id_number": wife_id, "action": "draft"},
    )
    draft = FamilyPlanningApplication.objects.get(applicant=citizen)
    assert response.status_code == 302 and response.url == url("detail", draft.case_number)
    assert draft.status == Status.DRAFT
    assert draft.answers["wife"] == {"name": "陈静", "id_number": wife_id}

    edit = signed_in.get(url("edit", draft.case_number))
    assert input_value(edit, "wife_name") == "陈静" and input_value(edit, "wife_id_number") == wife_id
    assert re.search(rf'<option value="{office.pk}" selected[ >]', html(edit))

    check = signed_in.get(url("check", draft.case_number))
    problems = re.search(r'data-testid="problems">(.*?)</div>', html(check), re.S).group(1)
    assert "Husband – Name" in problems and f"{url('edit', draft.case_number)}#id_husband_name" in problems
    assert "Wife – Name" not in problems
    refused = signed_in.post(url("check", draft.case_number), {"declaration": "on"})
    assert refused.status_code == 400 and "Complete the answers listed above first." in text(refused)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT

    # Finishing the draft later: the rest of the answers, then submit.
    response = signed_in.post(
        url("edit", draft.case_number),
        {**form_data("birth_registration"), "office": office.pk, "action": "continue"},
    )
    assert response.status_code == 302 and response.url == url("check", draft.case_number)
    assert signed_in.post(url("check", draft.case_number), {"declaration": "on"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED


def test_a_draft_with_a_wrong_id_number_is_saved_as_typed_and_lists_what_to_fix(signed_in, citizen, office):
    number = make_id_number()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")  # the check character does not match
    response = signed_in.post(
        url("apply", "birth_registration"),
        {"office": office.pk, "wife_name": "陈静", "wife_id_number": wrong, "action": "draft"},
    )
    application = FamilyPlanningApplication.objects.get(applicant=citizen)
    assert response.status_code == 302 and response.url == url("detail", application.case_number)
    assert application.kept_inputs["form"]["data"]["wife_id_number"] == [wrong]
    # Opened again, everything typed is there, with the message next to the wrong answer.
    resumed = signed_in.get(url("edit", application.case_number))
    assert input_value(resumed, "wife_id_number") == wrong and input_value(resumed, "wife_name") == "陈静"
    assert "Wife – Resident ID number: The last character does not match the rest of the number." in text(resumed)
    # The check page lists it, and the application cannot be submitted until it is corrected.
    problems = services.answers_problems(application)
    assert any("does not match the rest of the number" in message for message in problems[""])
    response = signed_in.post(
        url("edit", application.case_number),
        {"office": office.pk, "wife_name": "陈静", "wife_id_number": number, "action": "draft"},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.kept_inputs == {} and number in str(application.answers)


def test_continue_with_missing_answers_shows_each_one_and_keeps_the_rest(signed_in, citizen, office):
    data = form_data("practice_licence")
    del data["institution_name"]
    response = signed_in.post(url("apply", "practice_licence"), {**data, "office": office.pk, "action": "continue"})
    assert response.status_code == 400
    assert not FamilyPlanningApplication.objects.filter(applicant=citizen).exists()
    assert '<a href="#id_institution_name">Name of the institution: Enter name of the institution</a>' in html(response)
    assert input_value(response, "approval_number") == data["approval_number"]


def test_rules_across_fields_are_explained_at_the_field(signed_in, office):
    data = form_data("birth_registration", child_order="second", children_count=0)
    response = signed_in.post(url("apply", "birth_registration"), {**data, "office": office.pk, "action": "continue"})
    assert response.status_code == 400
    assert "This does not match the number of children already born." in text(response)
    data = form_data("practice_licence", technical_staff=3, qualified_staff=5)
    response = signed_in.post(url("apply", "practice_licence"), {**data, "office": office.pk, "action": "continue"})
    assert response.status_code == 400
    assert "This cannot be more than the number of technical staff." in text(response)
    assert input_value(response, "qualified_staff") == "5"


def test_the_office_must_be_a_family_planning_office(signed_in, citizen, office):
    police = OfficeFactory(kind="police_station")
    response = signed_in.post(url("apply", "birth_registration"), {"office": police.pk, "action": "draft"})
    assert response.status_code == 400
    assert "This office cannot be chosen; choose one from the list." in text(response)
    response = signed_in.post(url("apply", "birth_registration"), {"action": "draft"})
    assert response.status_code == 400 and "Choose the office that should handle the application." in text(response)
    assert not FamilyPlanningApplication.objects.filter(applicant=citizen).exists()


def test_a_draft_can_move_to_another_office_but_a_submitted_application_cannot(signed_in, citizen, office):
    other = OfficeFactory(kind="family_planning", division_code="410302", name_en="Laocheng Health Commission")
    draft = FamilyPlanningApplicationFactory(office=office, service="practice_licence", applicant=citizen, draft=True)
    data = {**form_data("practice_licence"), "office": other.pk, "action": "draft"}
    assert signed_in.post(url("edit", draft.case_number), data).status_code == 302
    draft.refresh_from_db()
    assert draft.office == other
    submitted = FamilyPlanningApplicationFactory(office=office, service="practice_licence", applicant=citizen)
    response = signed_in.get(url("edit", submitted.case_number))
    assert response.status_code == 302 and response.url == url("detail", submitted.case_number)
    assert signed_in.post(url("edit", submitted.case_number), data).status_code == 302
    submitted.refresh_from_db()
    assert submitted.office == office


def test_submission_needs_the_declaration_and_confirmed_contact_details(client, office):
    unconfirmed = UserFactory(unconfirmed=True)
    draft = FamilyPlanningApplicationFactory(
        office=office, service="practice_licence", applicant=unconfirmed, draft=True, declaration_at=None
    )
    client.force_login(unconfirmed)
    page = client.get(url("check", draft.case_number))
    assert 'data-testid="contact-warning"' in html(page)
    response = client.post(url("check", draft.case_number), {})
    assert response.status_code == 400
    assert "Tick the declaration to confirm that the information is true." in text(response)
    response = client.post(url("check", draft.case_number), {"declaration": "on"})
    assert response.status_code == 400 and "Confirm your e-mail address and mobile number" in text(response)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.declaration_at is None


def test_deleting_a_draft(signed_in, citizen, office):
    draft = FamilyPlanningApplicationFactory(office=office, applicant=citizen, draft=True)
    assert signed_in.get(url("delete", draft.case_number)).status_code == 200
    response = signed_in.post(url("delete", draft.case_number))
    assert response.status_code == 302 and response.url == url("index")
    assert not FamilyPlanningApplication.objects.filter(pk=draft.pk).exists()
    submitted = FamilyPlanningApplicationFactory(office=office, applicant=citizen)
    response = signed_in.post(url("delete", submitted.case_number))
    assert response.status_code == 302 and response.url == url("detail", submitted.case_number)
    assert FamilyPlanningApplication.objects.filter(pk=submitted.pk).exists()


def test_drafts_and_applications_show_on_the_catalogue_and_on_me(signed_in, citizen, office):
    draft = FamilyPlanningApplicationFactory(office=office, service="practice_licence", applicant=citizen, draft=True)
    submitted = FamilyPlanningApplicationFactory(office=office, service="qualification_certificate", applicant=citizen)
    page = html(signed_in.get(url("index")))
    assert url("edit", draft.case_number) in page and url("detail", submitted.case_number) in page
    me = html(signed_in.get(reverse("me")))
    assert url("detail", draft.case_number) in me and url("detail", submitted.case_number) in me


# --- ownership ---------------------------------------------------------------------------------------------------


def test_another_citizen_gets_404_everywhere_and_changes_nothing(client, office):
    owner = UserFactory()
    draft = FamilyPlanningApplicationFactory(office=office, applicant=owner, draft=True)
    answers = draft.answers
    submitted = FamilyPlanningApplicationFactory(office=office, applicant=owner)
    client.force_login(UserFactory())
    for name in ("detail", "edit", "check", "submitted", "withdraw", "delete"):
        for application in (draft, submitted):
            assert client.get(url(name, application.case_number)).status_code == 404, name
    data = {**form_data("birth_registration"), "office": office.pk, "action": "continue", "declaration": "on"}
    for name in ("edit", "check", "withdraw", "delete"):
        for application in (draft, submitted):
            assert client.post(url(name, application.case_number), data).status_code == 404, name
    draft.refresh_from_db()
    submitted.refresh_from_db()
    assert draft.status == Status.DRAFT and submitted.status == Status.SUBMITTED
    assert draft.answers == answers


def test_a_visitor_is_asked_to_log_in(client, office):
    application = FamilyPlanningApplicationFactory(office=office)
    for target in (url("apply", "birth_registration"), url("detail", application.case_number)):
        response = client.get(target)
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


# --- progress: information requested, withdrawal, the decision -----------------------------------------------


def test_answering_a_request_for_information_resumes_the_case(signed_in, citizen, office, officer):
    application = FamilyPlanningApplicationFactory(office=office, service="practice_licence", applicant=citizen)
    services.fp_accept(application=application, by=officer)
    services.fp_request_info(application=application, by=officer, message="Add the equipment list.")
    page = signed_in.get(url("detail", application.case_number))
    assert "Add the equipment list." in text(page) and 'data-testid="reply-form"' in html(page)
    assert "The clock is stopped until you answer" in text(page)

    # Amend an answer, then answer the office.
    data = {**form_data("practice_licence"), "equipment": "B-ultrasound scanner; operating table", "action": "continue"}
    assert signed_in.post(url("edit", application.case_number), data).status_code == 302
    response = signed_in.post(url("check", application.case_number), {"declaration": "on"})
    assert response.status_code == 400
    assert "Answer the office's request: say what you changed or added." in text(response)
    response = signed_in.post(
        url("check", application.case_number), {"declaration": "on", "reply": "Equipment list added."}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED and application.paused_at is None
    assert application.citizen_reply == "Equipment list added."
    assert application.answers["equipment"] == "B-ultrasound scanner; operating table"
    timeline = text(signed_in.get(url("detail", application.case_number)))
    assert "More information requested" in timeline and "Equipment list added." in timeline


def test_withdrawing_before_a_decision(signed_in, citizen, office, officer):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen)
    services.fp_accept(application=application, by=officer)
    detail = signed_in.get(url("detail", application.case_number))
    assert 'data-testid="withdraw"' in html(detail)
    assert signed_in.get(url("withdraw", application.case_number)).status_code == 200
    response = signed_in.post(url("withdraw", application.case_number))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.WITHDRAWN and application.due_date is None
    detail = signed_in.get(url("detail", application.case_number))
    assert 'data-testid="withdraw"' not in html(detail) and "Withdrawn" in text(detail)


def test_a_refusal_shows_the_reason_and_the_way_to_object(signed_in, citizen, office, officer):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen)
    services.fp_accept(application=application, by=officer)
    services.fp_refuse(application=application, by=officer, reason="The marriage certificate is not valid.")
    page = text(signed_in.get(url("detail", application.case_number)))
    assert "The marriage certificate is not valid." in page and "administrative reconsideration" in page


# --- the status wording of services that issue no document ------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("birth_registration", "Approved, document being issued"),
        ("institution_establishment", "Approved"),
        ("institution_change", "Approved"),
        ("birth_registration_cancellation", "Cancellation approved"),
        ("only_child_certificate_cancellation", "Cancellation approved"),
    ],
)
def test_approved_says_what_approval_means_for_the_service(
    signed_in, staff_client, citizen, office, officer, key, label
):
    application = FamilyPlanningApplicationFactory(office=office, service=key, applicant=citizen)
    services.fp_accept(application=application, by=officer)
    services.fp_approve(application=application, by=officer)
    application.refresh_from_db()
    assert application.get_status_display() == label

    detail = html(signed_in.get(url("detail", application.case_number)))
    assert re.search(r'data-testid="status" data-status="approved">([^<]*)<', detail).group(1) == label
    assert f"<strong>{label}</strong>" in detail  # the timeline's last step
    me = html(signed_in.get(reverse("me")))
    assert f'<span class="portal-status">{label}</span>' in me
    tracked = signed_in.post(
        reverse("track"), {"case_number": application.case_number, "second_factor": citizen.id_number[-4:]}
    )
    assert f'<span class="portal-status">{label}</span>' in html(tracked)
    admin = staff_client(officer)
    changelist = html(
        admin.get(reverse("admin:familyplanning_familyplanningapplication_changelist") + "?inbox=finished")
    )
    row = re.search(rf"{application.case_number}.*?</tr>", changelist, re.S).group(0)
    assert f">{label}<" in row
    if label != "Approved, document being issued":
        assert "document being issued" not in row
    review = html(admin.get(reverse("admin:familyplanning_familyplanningapplication_change", args=[application.pk])))
    assert f'data-testid="fp-status">{label}<' in review


def test_an_approved_institution_change_says_who_approved_it_and_when(signed_in, citizen, office, officer):
    application = FamilyPlanningApplicationFactory(
        office=office, service="institution_change", applicant=citizen, status=Status.ACCEPTED
    )
    FamilyPlanningApplication.objects.filter(pk=application.pk).update(**clock_start(20))
    application.refresh_from_db()
    services.fp_approve(application=application, by=officer)
    page = signed_in.get(url("detail", application.case_number))
    assert 'data-testid="decision"' in html(page)
    today = formats.date_format(timezone.localdate(), "DATE_FORMAT")
    assert f"Jinshui Health Commission approved your application on {today}." in text(page)
    assert 'data-testid="document' not in html(page)


# --- a form definition that changes ----------------------------------------------------------------------------------


def test_a_field_added_to_the_definition_appears_in_the_online_form_and_is_stored(
    signed_in, citizen, office, monkeypatch
):
    from familyplanning.fields import FieldDef, Kind

    service = catalogue.get_service("practice_licence")
    data = {**form_data("practice_licence"), "office": office.pk, "action": "continue"}  # the answers before
    changed = dataclasses.replace(
        service, form=service.form.adding(FieldDef("ambulances", "Number of ambulances on call", Kind.INTEGER))
    )
    monkeypatch.setitem(catalogue.SERVICES, "practice_licence", changed)
    page = signed_in.get(url("apply", "practice_licence"))
    assert 'name="ambulances"' in html(page) and "Number of ambulances on call" in html(page)
    response = signed_in.post(url("apply", "practice_licence"), data)
    assert response.status_code == 400 and "Number of ambulances on call: Enter number of ambulances on call" in text(
        response
    )
    response = signed_in.post(url("apply", "practice_licence"), {**data, "ambulances": "2"})
    assert response.status_code == 302
    assert FamilyPlanningApplication.objects.get(applicant=citizen).answers["ambulances"] == 2


def test_the_progress_page_masks_id_numbers_that_the_check_page_shows_in_full(signed_in, citizen, office):
    from accounts import idnumber

    draft = FamilyPlanningApplicationFactory(office=office, applicant=citizen, draft=True)
    assert draft.answers["husband"]["id_number"] in html(signed_in.get(url("check", draft.case_number)))
    submitted = FamilyPlanningApplicationFactory(office=office, applicant=citizen)
    page = html(signed_in.get(url("detail", submitted.case_number)))
    for person in ("wife", "husband"):
        number = submitted.answers[person]["id_number"]
        assert number not in page and idnumber.mask(number) in page


def test_the_catalogue_and_the_progress_page_take_a_fixed_number_of_queries(
    signed_in, citizen, office, officer, django_assert_max_num_queries
):
    applications = [
        FamilyPlanningApplicationFactory(office=office, service=key, applicant=citizen) for key in SERVICE_KEYS
    ]
    # Each page also counts the unread messages for its header (portal.notify.inbox.unread_count).
    with django_assert_max_num_queries(4):  # session, user, the applications with their offices, unread messages
        assert signed_in.get(url("index")).status_code == 200
    services.fp_accept(application=applications[0], by=officer)
    with django_assert_max_num_queries(6):  # session, user, the application, its timeline, its document, unread
        assert signed_in.get(url("detail", applications[0].case_number)).status_code == 200
