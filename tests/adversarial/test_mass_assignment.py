"""Mass assignment: fields a citizen or officer must never set (status, office, is_staff, applicant, case number)
are ignored when they are slipped into POST data; status changes only through the transition functions."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import Office, User
from certificates import services
from certificates.models import Application, Status
from tests.casework import take_step
from tests.factories import ApplicationFactory, OfficeFactory, StaffFactory, UserFactory, make_id_number

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

APPLICATION_EXTRAS = {
    "status": "approved",
    "applicant": "1",
    "applicant_id": "1",
    "case_number": "NCR-20200101-99999",
    "decided_by": "1",
    "decided_at": "2020-01-01T00:00",
    "certificate_generation": "7",
    "submitted_at": "2020-01-01T00:00",
    "accepted_at": "2020-01-01T00:00",
    "due_date": "2020-01-02",
    "refusal_reason": "x",
    "paper_printed_at": "2020-01-01T00:00",
}


@pytest.fixture
def household_office(db):
    return OfficeFactory(name="郑州市户政管理处", kind=Office.Kind.HOUSEHOLD_ADMIN, division_code="410100")


def snapshot(application, *names):
    application.refresh_from_db()
    return {name: getattr(application, name) for name in names}


GUARDED = (
    "status",
    "applicant_id",
    "case_number",
    "office_id",
    "decided_by_id",
    "certificate_generation",
    "submitted_at",
    "accepted_at",
    "due_date",
    "refusal_reason",
    "paper_printed_at",
)


def test_registration_ignores_staff_and_confirmation_fields(client, station_a):
    admin_group = Group.objects.get_or_create(name="administrator")[0]
    response = client.post(
        reverse("accounts:register"),
        {
            "real_name": "王芳",
            "id_number": make_id_number(),
            "mobile": "+8616692816317",
            "email": "mass@example.test",
            "username": "mass",
            "password1": "Zhengzhou-Spring-2026",
            "password2": "Zhengzhou-Spring-2026",
            "consent": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "office": station_a.pk,
            "groups": [admin_group.pk],
            "email_confirmed_at": "2020-01-01T00:00",
            "mobile_confirmed_at": "2020-01-01T00:00",
            "language": "xx",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="mass")
    assert not (user.is_staff or user.is_superuser) and user.office is None and not user.groups.exists()
    assert user.email_confirmed_at is None and user.mobile_confirmed_at is None
    assert client.get(reverse("admin:index")).status_code == 302


def test_profile_ignores_identity_and_staff_fields(client, citizen, station_a):
    client.force_login(citizen)
    before = User.objects.values().get(pk=citizen.pk)
    response = client.post(
        reverse("accounts:profile"),
        {
            "email": citizen.email,
            "language": "en",
            "real_name": "冒名顶替",
            "id_number": make_id_number(),
            "username": "root",
            "is_staff": "on",
            "is_superuser": "on",
            "office": station_a.pk,
            "email_confirmed_at": "",
            "mobile_confirmed_at": "",
            "must_change_password": "on",
        },
    )
    assert response.status_code == 302
    after = User.objects.values().get(pk=citizen.pk)
    changed = {k for k in after if after[k] != before[k]}
    assert changed <= {"language"}, changed


def test_start_ignores_applicant_status_and_case_number(client, citizen, other_citizen, station_a):
    client.force_login(citizen)
    response = client.post(
        reverse("certificates:apply"),
        {"applying_for": "self", "office": station_a.pk, **APPLICATION_EXTRAS, "applicant": other_citizen.pk},
    )
    assert response.status_code == 302
    application = Application.objects.get()
    assert (application.applicant, application.status, application.office) == (citizen, Status.DRAFT, station_a)
    assert application.case_number != APPLICATION_EXTRAS["case_number"]
    assert application.certificate_generation == 0 and application.decided_by is None


def test_start_refuses_an_office_that_is_not_a_police_station(client, citizen, household_office):
    client.force_login(citizen)
    response = client.post(reverse("certificates:apply"), {"applying_for": "self", "office": household_office.pk})
    assert response.status_code == 400
    assert "This police station cannot be chosen" in response.content.decode()
    assert not Application.objects.exists()


@pytest.mark.parametrize("section", ["holder", "purpose", "delivery"])
def test_section_ignores_status_office_and_case_fields(client, citizen, station_a, station_b, section):
    client.force_login(citizen)
    application = services.application_create_draft(applicant=citizen, for_self=True, office=station_a)
    before = snapshot(application, *GUARDED)
    data = {
        "action": "leave",
        "reason": "employment",
        "receiving_organisation": "郑州某公司",
        "delivery": "electronic",
        **APPLICATION_EXTRAS,
        "office": station_b.pk,
    }
    url = reverse("certificates:section", kwargs={"case_number": application.case_number, "section": section})
    assert client.post(url, data).status_code == 302
    assert snapshot(application, *GUARDED) == before


def test_holder_for_myself_ignores_a_typed_name_and_number(client, citizen, station_a):
    client.force_login(citizen)
    application = services.application_create_draft(applicant=citizen, for_self=True, office=station_a)
    other_number = make_id_number()
    url = reverse("certificates:section", kwargs={"case_number": application.case_number, "section": "holder"})
    client.post(url, {"action": "leave", "holder_name": "别人", "holder_id_number": other_number, "holder_sex": "F"})
    application.refresh_from_db()
    assert (application.holder_name, application.holder_id_number) == (citizen.real_name, citizen.id_number)


def test_delivery_refuses_a_collection_office_that_takes_no_paper(client, citizen, station_a, station_b):
    client.force_login(citizen)
    application = services.application_create_draft(applicant=citizen, for_self=True, office=station_a)
    url = reverse("certificates:section", kwargs={"case_number": application.case_number, "section": "delivery"})
    response = client.post(url, {"action": "continue", "delivery": "collect", "collection_office": station_b.pk})
    assert response.status_code == 400
    assert "Paper copies cannot be collected at this office" in response.content.decode()
    application.refresh_from_db()
    assert application.collection_office is None


def test_submit_ignores_a_status_named_in_the_post(client, citizen, station_a, station_b):
    application = ApplicationFactory(office=station_a, applicant=citizen, draft=True, documents=True, submitted_at=None)
    client.force_login(citizen)
    response = client.post(
        reverse("certificates:check", kwargs={"case_number": application.case_number}),
        {"declaration": "on", **APPLICATION_EXTRAS, "office": station_b.pk},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED and application.office == station_a
    assert application.decided_by is None and application.certificate_generation == 0


def test_withdraw_ignores_a_status_named_in_the_post(client, citizen, station_a):
    application = ApplicationFactory(office=station_a, applicant=citizen, submitted=True)
    client.force_login(citizen)
    client.post(reverse("certificates:withdraw", kwargs={"case_number": application.case_number}), {"status": "issued"})
    application.refresh_from_db()
    assert application.status == Status.WITHDRAWN


def test_admin_review_page_saves_nothing_posted_to_it(staff_client, officer_a, station_a, station_b):
    application = ApplicationFactory(office=station_a, submitted=True)
    client = staff_client(officer_a)
    response = client.post(
        reverse("admin:certificates_application_change", args=[application.pk]),
        {"status": "issued", "office": station_b.pk, "holder_name": "X", "refusal_reason": "y", "_save": "Save"},
    )
    assert response.status_code == 405
    application.refresh_from_db()
    assert (application.status, application.office, application.holder_name) != ("issued", station_b, "X")
    assert application.status == Status.SUBMITTED


def test_admin_action_ignores_extra_fields(staff_client, officer_a, station_a, station_b, no_tasks):
    application = ApplicationFactory(office=station_a, submitted=True)
    client = staff_client(officer_a)
    take_step(
        client,
        reverse("admin:certificates_application_act", args=[application.pk, "accept"]),
        {"status": "issued", "office": station_b.pk, "applicant": officer_a.pk, "decided_by": officer_a.pk},
    )
    application.refresh_from_db()
    assert (application.status, application.office, application.decided_by) == (Status.ACCEPTED, station_a, None)
    assert application.applicant != officer_a


def test_staff_user_cannot_be_made_by_a_supervisor_through_the_user_admin(staff_client, station_a):
    supervisor = StaffFactory(office=station_a.parent, role="supervisor")
    target = UserFactory()
    client = staff_client(supervisor)
    response = client.post(
        reverse("admin:accounts_user_change", args=[target.pk]),
        {"username": target.username, "is_staff": "on", "is_superuser": "on", "office": station_a.pk},
    )
    assert response.status_code in (403, 302)
    target.refresh_from_db()
    assert not target.is_staff and not target.is_superuser
    assert target.check_password(PASSWORD)
