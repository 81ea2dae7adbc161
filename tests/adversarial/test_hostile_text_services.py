"""Invisible control characters typed into the hukou and family-planning forms are refused with a plain message,
and nothing is saved (accounts.validators through portal.forms.PlainTextFormMixin)."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import Office
from familyplanning.models import FamilyPlanningApplication
from portal.cases.kept import kept_problems
from portal.feedback.models import Feedback
from tests.factories import OfficeFactory, UserFactory
from tests.familyplanning.pages import url as fp_url
from tests.hukou.pages import citizen_offices, destination, id_of, post, start
from tests.hukou.pages import url as hk_url

pytestmark = pytest.mark.django_db
RLO = "\u202e"
ZWSP = "\u200b"
MESSAGE = "invisible control character"


@pytest.fixture
def offices(db):
    return citizen_offices()


@pytest.fixture
def applicant(db):
    return UserFactory(real_name="王芳", id_number=id_of(34, sex="F"))


@pytest.fixture
def fp_office(db):
    return OfficeFactory(
        name="金水区卫生健康委员会", name_en="Jinshui Health Commission", kind=Office.Kind.FAMILY_PLANNING
    )


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.mark.parametrize("value", [f"郑州市{RLO}金水路2号", f"郑州市金水路{ZWSP}2号"], ids=["rlo", "zero-width"])
def test_hukou_destination_address_refuses(client, offices, applicant, value):
    client.force_login(applicant)
    application = start(client, offices)
    response = post(client, hk_url("", application, "destination"), destination(offices, destination_address=value))
    assert response.status_code in (200, 400) and MESSAGE in response.content.decode()
    application.refresh_from_db()
    assert RLO not in application.destination_address and ZWSP not in application.destination_address


def test_family_planning_form_refuses_a_right_to_left_override(client, citizen, fp_office):
    client.force_login(citizen)
    typed = {"office": fp_office.pk, "wife_name": f"陈{RLO}静"}
    response = client.post(fp_url("apply", "birth_registration"), typed)
    assert response.status_code in (200, 400) and MESSAGE in response.content.decode()
    assert not FamilyPlanningApplication.objects.filter(applicant=citizen).exists()
    # Saving the draft keeps what was typed, to be corrected, but never as an answer.
    client.post(fp_url("apply", "birth_registration"), {**typed, "action": "draft"})
    application = FamilyPlanningApplication.objects.get(applicant=citizen)
    assert RLO not in str(application.answers)
    assert any(MESSAGE in message for _page, message in kept_problems(application))


def test_complaint_text_refuses_a_zero_width_character(client, citizen, fp_office):
    client.force_login(citizen)
    response = client.post(
        reverse("feedback:complain"),
        {"office": fp_office.pk, "subject": f"窗口{ZWSP}态度", "body": "工作人员态度不好。"},
    )
    assert response.status_code in (200, 400) and MESSAGE in response.content.decode()
    assert not Feedback.objects.filter(applicant=citizen).exists()
