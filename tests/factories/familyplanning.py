"""Family-planning applications in each state with valid answers, and complaints, suggestions and consultations."""

import datetime

import factory
from django.utils import timezone

from accounts.models import Office, Role
from familyplanning import services
from familyplanning.catalogue import get_service
from familyplanning.fields import Kind, address_parts_key, validate_answers
from familyplanning.models import FamilyPlanningApplication, Status
from portal.feedback import services as feedback
from portal.feedback.models import Feedback, FeedbackKind

from .cases import CaseFactory
from .people import OfficeFactory, StaffFactory, UserFactory, make_id_number

REFUSAL_REASON = "The birth is already registered."
INFO_REQUEST = "Please add the marriage certificate."
ANSWER = "We have looked into it and answered by telephone."


SAMPLE_ADDRESS_PARTS = {
    "province": "410000",
    "city": "410100",
    "district": "410105",
    "street": "花园路街道",
    "detail": "花园路1号",
}
SAMPLE_ADDRESS = "河南省郑州市金水区花园路街道花园路1号"


def sample_answers(service_key: str, **overrides) -> dict:
    """Complete, valid answers for any service: each field filled by its kind, then the overrides."""
    form = get_service(service_key).form
    answers = {}
    for definition in form.fields:
        if not definition.required:
            continue
        kind = definition.kind
        if kind == Kind.PERSON:
            value = {"name": "陈静", "id_number": make_id_number(birth=datetime.date(1985, 1, 1))}
        elif kind == Kind.DATE:
            value = "2015-06-01"
        elif kind == Kind.CHOICE:
            value = [definition.choices[0][0]] if definition.multiple else definition.choices[0][0]
        elif kind == Kind.INTEGER:
            value = definition.min_value or 0
        elif kind == Kind.YES_NO:
            value = False
        elif kind == Kind.MOBILE:
            value = "+8613800138000"
        elif kind == Kind.ID_NUMBER:
            value = make_id_number()
        elif kind == Kind.ADDRESS:
            # In parts (the one-line text is composed from them): 河南省郑州市金水区花园路街道花园路1号.
            answers[address_parts_key(definition.name)] = dict(SAMPLE_ADDRESS_PARTS)
            value = ""
        else:
            value = "郑州市金水区花园路1号"[: definition.max_length or 40]
        answers[definition.name] = value
    if "children_count" in answers and "child_order" in answers:
        answers["children_count"] = 0
    if "child" in answers and "child_birth_date" in answers:
        answers["child_birth_date"] = "2010-03-01"  # within the one-child period
    if service_key == "institution_change":
        answers["new_name"] = "郑州市金水区计划生育服务站"
    if "no_other_child" in answers:
        answers["no_other_child"] = True
    answers.update(overrides)
    return validate_answers(form, answers)


class HealthOfficeFactory(OfficeFactory):
    """A county health commission's family-planning office (under its city's commission)."""

    name = factory.Sequence(lambda n: f"测试卫生健康委员会{n}")
    name_en = factory.Sequence(lambda n: f"Test Health Commission {n}")
    kind = Office.Kind.FAMILY_PLANNING


def _nothing(obj, create, extracted, **kwargs):
    pass


def _officer_of(application, by):
    return by or StaffFactory(office=application.office, role=Role.FAMILY_PLANNING_OFFICER)


def _accept(application, create, extracted, by=None, **kwargs):
    """Accepted by an officer of its office (`accept__by=`) through the service: the clock runs, the applicant is told."""
    if create:
        services.fp_accept(application=application, by=_officer_of(application, by), **kwargs)


class FamilyPlanningApplicationFactory(CaseFactory):
    """A submitted application (by default) for a birth registration, with valid answers, of an English reader.

    `service=` picks another service of the catalogue (answers follow). Traits: `draft`, `submitted`, `accepted`
    (accepted through familyplanning.services.fp_accept by an officer of the office, or `accept__by=`),
    `info_requested`, `approved`, `issued`, `refused` and `withdrawn` (the fields those steps write, no officer).
    A bare `status=` sets the status alone.
    """

    class Meta:
        model = FamilyPlanningApplication

    class Params:
        case_prefix = FamilyPlanningApplication.CASE_PREFIX
        draft_statuses = FamilyPlanningApplication.DRAFT_STATUSES
        draft = factory.Trait(status=Status.DRAFT)
        submitted = factory.Trait(status=Status.SUBMITTED)
        accepted = factory.Trait(status=Status.SUBMITTED, accept=factory.PostGeneration(_accept))
        info_requested = factory.Trait(
            status=Status.INFO_REQUESTED,
            accepted_at=factory.LazyFunction(timezone.now),
            info_request=INFO_REQUEST,
            clock=factory.LazyAttribute(lambda o: get_service(o.service).guide.time_limit),
            paused=True,
        )
        approved = factory.Trait(
            status=Status.APPROVED,
            accepted_at=factory.LazyFunction(timezone.now),
            decided_at=factory.LazyFunction(timezone.now),
        )
        issued = factory.Trait(approved=True, status=Status.ISSUED)
        refused = factory.Trait(
            status=Status.REFUSED,
            accepted_at=factory.LazyFunction(timezone.now),
            decided_at=factory.LazyFunction(timezone.now),
            refusal_reason=REFUSAL_REASON,
        )
        withdrawn = factory.Trait(status=Status.WITHDRAWN)

    applicant = factory.SubFactory(UserFactory, language="en")
    office = factory.SubFactory(HealthOfficeFactory)
    status = Status.SUBMITTED
    service = "birth_registration"
    answers = factory.LazyAttribute(lambda o: sample_answers(o.service))
    declaration_at = factory.LazyFunction(timezone.now)
    accept = factory.PostGeneration(_nothing)  # the `accepted` trait's step


def _answer(item, create, extracted, by=None, text=ANSWER):
    """Answered through portal.feedback.services.answer by an officer of the office (`answer__by=`)."""
    if create:
        feedback.answer(feedback=item, by=_officer_of(item, by), text=text)


class FeedbackFactory(factory.django.DjangoModelFactory):
    """A complaint (by default) filed through portal.feedback.services.file_feedback: numbered, clock running, the
    citizen and the office told. `kind=` for a suggestion or consultation; `answered=True` answers it through
    portal.feedback.services.answer (`answer__by=`, `answer__text=`)."""

    class Meta:
        model = Feedback
        skip_postgeneration_save = True

    class Params:
        answered = factory.Trait(answer_step=factory.PostGeneration(_answer))

    applicant = factory.SubFactory(UserFactory, language="en")
    office = factory.SubFactory(HealthOfficeFactory)
    kind = FeedbackKind.COMPLAINT
    subject = "Rude at the counter"
    body = "I was sent away twice without a reason."
    answer_step = factory.PostGeneration(_nothing)  # the `answered` trait's step

    @classmethod
    def _create(cls, model_class, applicant, **kwargs):
        return feedback.file_feedback(citizen=applicant, **kwargs)
