"""The workflow tables (portal/cases/workflow.py): each service declares its steps once, and what reads them agrees."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from certificates import workflow as ncr
from certificates.models import Status as NcrStatus
from familyplanning import workflow as fp
from hukou import workflow as hk
from hukou.constants import Status as HkStatus
from portal.cases.services import TransitionNotAllowed
from portal.cases.workflow import AccessMessages, Actor, Input, Step, Workflow, ensure_staff_may_act, parse_input
from tests.factories import ApplicationFactory, StaffFactory

WORKFLOWS = (ncr.WORKFLOW, fp.WORKFLOW, hk.WORKFLOW)


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.service)
def test_every_step_has_its_function_and_every_office_step_its_words(workflow):
    # Importing the services registers the step functions (the admin dispatches to them by the table).
    import certificates.services  # noqa: F401
    import familyplanning.services  # noqa: F401
    import hukou.services  # noqa: F401

    missing = [step.name for step in workflow.steps if step.name not in workflow.handlers and step.name != "check"]
    assert missing == []
    for step in workflow.officer_steps():
        assert str(step.label) and "%(number)s" in str(step.done), step.name
        assert len({item.name for item in step.inputs}) == len(step.inputs), step.name


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.service)
def test_every_status_a_step_names_is_a_status_of_the_model(workflow):
    model = {"certificates": NcrStatus, "familyplanning": fp.Status, "hukou": HkStatus}[workflow.service]
    for step in workflow.steps:
        assert set(step.allowed_from) <= set(model.values), step.name
        assert step.to is None or step.to in model.values, step.name


def test_status_groups_come_from_the_table():
    assert ncr.WITHDRAWABLE == ("submitted", "accepted", "info_requested")
    assert ncr.REFUSABLE == ("accepted", "info_requested")
    assert ncr.EDITABLE == ("draft", "info_requested")
    assert fp.WITHDRAWABLE == ncr.WITHDRAWABLE
    assert hk.WITHDRAWABLE == ("submitted", "info_requested", "accepted", "forwarded")


def test_statuses_from_lists_each_status_once_in_table_order():
    workflow = Workflow(
        service="t",
        messages=ncr.WORKFLOW.messages,
        concerns=lambda user, case: False,
        steps=(Step("a", ("x", "y"), "z"), Step("b", ("y", "w"), "z")),
    )
    assert workflow.statuses_from("a", "b") == ("x", "y", "w")
    with pytest.raises(ValueError, match="share a name"):
        Workflow(
            service="t",
            messages=ncr.WORKFLOW.messages,
            concerns=lambda user, case: False,
            steps=(Step("a", ("x",), "z"), Step("a", ("y",), "z")),
        )


@pytest.mark.django_db
def test_the_offered_steps_follow_the_status_and_the_facts(station_a):
    application = ApplicationFactory(office=station_a, accepted=True)
    assert ncr.WORKFLOW.available(application) == ["request_info", "approve", "refuse"]
    application.status = NcrStatus.ISSUED
    assert ncr.WORKFLOW.available(application, certificate_valid=False) == ["reissue"]
    assert ncr.WORKFLOW.available(application, certificate_valid=True) == ["revoke", "reissue"]


@pytest.mark.django_db
def test_one_rule_of_who_may_act_checks_role_scope_and_own_case(station_a, station_b, english):
    application = ApplicationFactory(office=station_a, submitted=True)
    words = AccessMessages(
        staff_only=_("Only police station staff can do this."),
        other_office=_("This application belongs to another office."),
        own_case=_("You cannot act on an application for yourself. Another officer of the station must handle it."),
    )
    officer = StaffFactory(office=station_a)
    assert ensure_staff_may_act(officer, application, messages=words) == station_a
    # A step that names a role refuses staff without it, whatever their office.
    with pytest.raises(TransitionNotAllowed, match="role"):
        ensure_staff_may_act(officer, application, roles=(Role.SUPERVISOR,), messages=words)
    supervisor = StaffFactory(office=station_a, role=Role.SUPERVISOR)
    assert ensure_staff_may_act(supervisor, application, roles=(Role.SUPERVISOR,), messages=words) == station_a
    # Another station's officer, and the applicant turned officer, are refused.
    with pytest.raises(TransitionNotAllowed, match="another office"):
        ensure_staff_may_act(StaffFactory(office=station_b), application, messages=words)
    with pytest.raises(TransitionNotAllowed, match="for yourself"):
        ncr.WORKFLOW.ensure_may_act(
            StaffFactory(office=station_a, id_number=application.holder_id_number), application, ncr.WORKFLOW["accept"]
        )
    # The applicant's steps are the applicant's alone.
    with pytest.raises(TransitionNotAllowed):
        ncr.WORKFLOW.ensure_may_act(officer, application, ncr.WORKFLOW["withdraw"])
    assert ncr.WORKFLOW["withdraw"].actor == Actor.APPLICANT


def test_a_date_input_is_parsed_and_a_wrong_one_explained():
    day = Input("emigrated_on", "emigrated_on", "day", kind="date")
    assert parse_input(day, "2026-12-07") == datetime.date(2026, 12, 7)
    assert parse_input(day, "  ") is None
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        parse_input(day, "7/12/2026")
    assert parse_input(Input("text", "note", "note"), "as typed ") == "as typed "
