"""FamilyPlanningApplication: answers checked by the service's form, drafts partially; the deadline index."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from familyplanning.models import FamilyPlanningApplication, Status
from tests.factories import make_id_number

HOLDER = make_id_number(birth=datetime.date(1985, 1, 1), sex="F")
ANSWERS = {
    "certificate_number": "豫计合2021-0099",
    "holder": {"name": "陈静", "id_number": HOLDER.lower()},
    "valid_until": "2027-01-31",
    "mobile": "13800138000",
    "employer": "郑州市计划生育服务站",
    "training_hours": 40,
    "incidents": False,
    "incidents_detail": "",
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"), time_machine.travel(datetime.datetime(2026, 11, 20, 10, tzinfo=datetime.UTC)):
        yield


def application(**kwargs):
    return FamilyPlanningApplication(service="qualification_certificate_validation", **kwargs)


def test_submitted_answers_are_validated_and_normalised():
    app = application(status=Status.SUBMITTED, answers=dict(ANSWERS))
    app.clean()
    assert app.answers["mobile"] == "+8613800138000"
    assert app.answers["holder"]["id_number"] == HOLDER
    assert app.form_version == app.service_def.form.version
    assert str(app.title) == "Validation of a Qualification Certificate"


def test_submitted_answers_must_be_complete_and_valid():
    app = application(status=Status.SUBMITTED, answers={**ANSWERS, "incidents": True})
    with pytest.raises(ValidationError) as raised:
        app.clean()
    assert "incidents_detail" in raised.value.message_dict["answers"][0]
    with pytest.raises(ValidationError):
        application(status=Status.SUBMITTED, answers={"mobile": "13800138000"}).clean()


def test_a_draft_may_be_incomplete_but_not_wrong():
    draft = application(status=Status.DRAFT, answers={"mobile": "138 0013 8000"})
    draft.clean()
    assert draft.answers["mobile"] == "+8613800138000"
    with pytest.raises(ValidationError) as raised:
        application(status=Status.DRAFT, answers={"mobile": "010 6552 9988"}).clean()
    assert "landline" in raised.value.message_dict["answers"][0]


def test_an_unknown_service_is_refused():
    with pytest.raises(ValidationError) as raised:
        FamilyPlanningApplication(service="dog_licence", answers={}).clean()
    assert "service" in raised.value.message_dict


def test_case_settings_and_the_partial_deadline_index():
    assert FamilyPlanningApplication.CASE_PREFIX == "FP"
    assert set(FamilyPlanningApplication.OPEN_STATUSES) == {Status.SUBMITTED, Status.ACCEPTED}
    index = next(i for i in FamilyPlanningApplication._meta.indexes if i.name == "fp_app_open_due")
    assert index.fields == ["due_date"]
    assert dict(index.condition.children)["status__in"] == ["submitted", "accepted"]
    assert application().is_draft and not application(status=Status.INFO_REQUESTED).is_open
