"""One-stop migration cases in each state, with the people moving and staying and the uploads submission needs."""

import datetime

import factory
from django.utils import timezone

from accounts.models import Office, Role
from hukou.constants import CLOCK_LIMITS, UPLOAD_KINDS, Category, Grounds, Relation, Status
from hukou.models import MigrationApplication, Mover, OriginMember
from portal.cases.services import next_serial_number

from .cases import CaseFactory
from .documents import attach_documents
from .people import OfficeFactory, StaffFactory, UserFactory, make_id_number

# As hukou.services numbers the Permit to Move In (准迁证) and the Migration Certificate (迁移证).
PERMIT_PREFIX = "ZQ"
MIGRATION_CERTIFICATE_PREFIX = "QY"
INFO_REQUEST = "Please upload the page of the booklet with the head of household."
PROBLEM = "The booklet page does not match the register."
REFUSAL_REASON = "The applicant does not meet the conditions for this category."
PAPER_REASON = "The move-out station is not connected to the system."


def _office(role):
    """The office of `role` in the `offices` parameter (the dict the hukou tests' `offices` fixture gives), else none."""
    return factory.LazyAttribute(lambda o: o.offices[role] if o.offices else None)


class MoverFactory(factory.django.DjangoModelFactory):
    """An adult moving, as written in the origin booklet."""

    class Meta:
        model = Mover

    application = factory.SubFactory("tests.factories.hukou.MigrationApplicationFactory")
    name = "王小明"
    id_number = factory.LazyFunction(lambda: make_id_number(birth=datetime.date(1988, 3, 3)))
    relation = Relation.SPOUSE


class OriginMemberFactory(factory.django.DjangoModelFactory):
    """An adult staying in the origin household."""

    class Meta:
        model = OriginMember

    application = factory.SubFactory("tests.factories.hukou.MigrationApplicationFactory")
    name = "李四"
    id_number = factory.LazyFunction(lambda: make_id_number(birth=datetime.date(1970, 5, 5)))
    relation = Relation.SPOUSE


def _household(application, create, extracted, **kwargs):
    """The applicant moves as head; a spouse stays and becomes head; the ID cards, booklet and evidence uploaded."""
    if not create:
        return
    MoverFactory(
        application=application,
        name=application.applicant.real_name,
        id_number=application.applicant.id_number,
        relation=Relation.HEAD,
        is_applicant=True,
    )
    OriginMemberFactory(application=application, is_new_head=True)
    attach_documents(application, UPLOAD_KINDS, rules=lambda kind: None)


class MigrationApplicationFactory(CaseFactory):
    """A draft move (by default) of part of a household, with nothing filled in but the category.

    `offices=` takes the hukou tests' dict of the move-in station, municipal administration and move-out station
    (else a new police station and no other office). `complete=True` gives a complete, eligible move of one adult:
    addresses, declaration, the applicant moving as head, a spouse staying as the new head, every upload.
    Traits per status set what the steps up to it write: `draft`, `submitted`, `accepted` (20-working-day clock),
    `info_requested` (paused), `forwarded`, `approved` (permit number, 5-day clock), `returned`, `emigrated`
    (migration certificate number), `settled`, `refused`, `withdrawn`, `paper`. A bare `status=` sets the status alone.
    """

    class Meta:
        model = MigrationApplication

    class Params:
        case_prefix = MigrationApplication.CASE_PREFIX
        draft_statuses = MigrationApplication.DRAFT_STATUSES
        offices = None
        complete = factory.Trait(
            origin_address="河南省洛阳市老城区西大街1号",
            origin_province="410000",
            origin_city="410300",
            origin_district="410302",
            origin_detail="西大街1号",
            destination_address="河南省郑州市金水区金水路2号",
            destination_province="410000",
            destination_city="410100",
            destination_district="410105",
            destination_detail="金水路2号",
            declaration_at=factory.LazyFunction(timezone.now),
            origin_head_name=factory.LazyAttribute(lambda o: o.applicant.real_name),
            origin_head_id_number=factory.LazyAttribute(lambda o: o.applicant.id_number),
            household=factory.PostGeneration(_household),
        )
        draft = factory.Trait(status=Status.DRAFT)
        submitted = factory.Trait(status=Status.SUBMITTED)
        accepted = factory.Trait(
            status=Status.ACCEPTED, accepted_at=factory.LazyFunction(timezone.now), clock=CLOCK_LIMITS[Status.ACCEPTED]
        )
        info_requested = factory.Trait(
            accepted=True,
            status=Status.INFO_REQUESTED,
            info_request=INFO_REQUEST,
            info_requested_in=Status.ACCEPTED,
            paused=True,
        )
        forwarded = factory.Trait(
            accepted=True, status=Status.FORWARDED, forwarded_at=factory.LazyFunction(timezone.now)
        )
        approved = factory.Trait(
            forwarded=True,
            status=Status.APPROVED,
            permit_number=factory.LazyFunction(lambda: next_serial_number(PERMIT_PREFIX)),
            permit_issued_at=factory.LazyFunction(timezone.now),
            clock=CLOCK_LIMITS[Status.APPROVED],
        )
        returned = factory.Trait(
            approved=True, status=Status.RETURNED, problem_report=PROBLEM, clock=CLOCK_LIMITS[Status.RETURNED]
        )
        emigrated = factory.Trait(
            approved=True,
            status=Status.EMIGRATED,
            migration_certificate_number=factory.LazyFunction(lambda: next_serial_number(MIGRATION_CERTIFICATE_PREFIX)),
            emigrated_on=factory.LazyFunction(timezone.localdate),
            emigrated_at=factory.LazyFunction(timezone.now),
            clock=CLOCK_LIMITS[Status.EMIGRATED],
        )
        settled = factory.Trait(
            emigrated=True, status=Status.SETTLED, settled_at=factory.LazyFunction(timezone.now), clock=None
        )
        refused = factory.Trait(status=Status.REFUSED, refusal_reason=REFUSAL_REASON)
        withdrawn = factory.Trait(status=Status.WITHDRAWN)
        paper = factory.Trait(
            accepted=True,
            status=Status.PAPER,
            paper_reason=PAPER_REASON,
            paper_switched_at=factory.LazyFunction(timezone.now),
            paper_switched_from=Status.ACCEPTED,
            clock=None,
        )

    applicant = factory.SubFactory(UserFactory)
    office = factory.Maybe(
        "offices",
        yes_declaration=factory.LazyAttribute(lambda o: o.offices["move_in"]),
        no_declaration=factory.SubFactory(OfficeFactory),
    )
    municipal_office = _office("municipal")
    origin_office = _office("move_out")
    category = Category.PART_HOUSEHOLD
    grounds = Grounds.EMPLOYMENT
    status = Status.DRAFT
    household = factory.PostGeneration(lambda application, create, extracted, **kwargs: None)  # `complete`'s people


def hukou_offices():
    """The three offices of a move from Luoyang to Zhengzhou, as `offices=` takes them: the move-in station
    (Jinshui Road), Zhengzhou's municipal household administration, the move-out station (Laocheng, Luoyang)."""
    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    return {
        "move_in": OfficeFactory(name="金水路派出所", parent=zhengzhou),
        "municipal": OfficeFactory(
            name="郑州市公安局户政管理处", kind=Office.Kind.HOUSEHOLD_ADMIN, division_code="410100", parent=zhengzhou
        ),
        "move_out": OfficeFactory(name="老城派出所", division_code="410302", parent=luoyang),
    }


def hukou_staff(offices):
    """An officer of each of `offices`: the two stations' police officers and the municipal administration's."""
    return {
        "move_in": StaffFactory(office=offices["move_in"]),
        "municipal": StaffFactory(office=offices["municipal"], role=Role.HOUSEHOLD_ADMIN),
        "move_out": StaffFactory(office=offices["move_out"]),
    }
