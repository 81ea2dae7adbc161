"""Every workflow step of one-stop migration: allowed, refused from the wrong state and office, clocks and SMS."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Role
from hukou import post_settlement, services
from hukou.constants import Education, MaritalStatus, Relation, Status
from hukou.models import MigrationApplication, Mover, PostSettlementCheck
from hukou.workflow import WORKFLOW
from portal.cases.services import TransitionConflict, TransitionNotAllowed
from portal.notify.models import Channel, OutboxMessage
from tests.factories import MigrationApplicationFactory, StaffFactory, UserFactory, make_id_number

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()


def at(day: str, hour=10):
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=TZ)


def templates_sent(application, channel=None):
    qs = OutboxMessage.objects.filter(user=application.applicant)
    if channel:
        qs = qs.filter(channel=channel)
    return [m.template for m in qs.order_by("pk")]


# One call per step, with what it needs; `who` names the staff member acting (None: the applicant).
def run(step, application, staff):
    by = {"move_in": staff["move_in"], "municipal": staff["municipal"], "move_out": staff["move_out"]}
    calls = {
        "submit": lambda: services.hukou_submit(application=application, by=application.applicant),
        "withdraw": lambda: services.hukou_withdraw(application=application, by=application.applicant),
        "resubmit": lambda: services.hukou_resubmit(application=application, by=application.applicant, reply="ok"),
        "accept": lambda: services.hukou_accept(application=application, by=by["move_in"]),
        "request_info": lambda: services.hukou_request_info(application=application, by=by["move_in"], message="x"),
        "forward": lambda: services.hukou_forward(
            application=application, by=by["move_in"], originals_seen_at_counter=True
        ),
        "approve": lambda: services.hukou_approve(application=application, by=by["municipal"]),
        "register_emigration": lambda: services.hukou_register_emigration(application=application, by=by["move_out"]),
        "report_problem": lambda: services.hukou_report_problem(
            application=application, by=by["move_out"], problem="x"
        ),
        "resend": lambda: services.hukou_resend(application=application, by=by["move_in"], note="fixed"),
        "settle": lambda: services.hukou_settle(application=application, by=by["move_in"]),
        "refuse": lambda: services.hukou_refuse(application=application, by=by["move_in"], reason="x"),
        "switch_to_paper": lambda: services.hukou_switch_to_paper(
            application=application, by=by["move_in"], reason="x"
        ),
    }
    return calls[step]()


@pytest.mark.parametrize("step", sorted(step.name for step in WORKFLOW.steps if step.name != "check"))
def test_every_step_is_refused_from_a_state_it_does_not_start_from(offices, staff, step):
    wrong = next(s for s in (Status.SETTLED, Status.DRAFT, Status.REFUSED) if s not in WORKFLOW[step].allowed_from)
    application = MigrationApplicationFactory(offices=offices, status=wrong, complete=True)
    with pytest.raises(TransitionNotAllowed):
        run(step, application, staff)
    application.refresh_from_db()
    assert application.status == wrong
    assert not application.timeline().exists()


def test_the_whole_path_through_three_offices_in_two_cities_with_the_clocks(offices, staff):
    with time_machine.travel(at("2026-09-24"), tick=False):
        application = MigrationApplicationFactory(offices=offices, complete=True)
        services.hukou_submit(application=application, by=application.applicant)
        # The acceptance clock: HUKOU_ACCEPTANCE_WORKING_DAYS (2) from a Thursday, over the Mid-Autumn Festival.
        assert (application.status, application.due_date) == (Status.SUBMITTED, datetime.date(2026, 9, 29))
    with time_machine.travel(at("2026-09-25"), tick=False):  # a Friday before National Day
        services.hukou_accept(application=application, by=staff["move_in"])
        # The 20 working days of approval count from acceptance, across the Golden Week
        # (docs/services.md#one-stop-hukou-migration).
        assert (application.status, application.due_date) == (Status.ACCEPTED, datetime.date(2026, 10, 29))
        assert application.acting_office() == offices["move_in"]
    with time_machine.travel(at("2026-09-28"), tick=False):
        services.hukou_forward(application=application, by=staff["move_in"], originals_seen_at_counter=True)
        assert application.status == Status.FORWARDED
        assert application.due_date == datetime.date(2026, 10, 29)  # the same clock runs on at the municipal step
        assert application.acting_office() == offices["municipal"]
    with time_machine.travel(at("2026-10-20"), tick=False):
        services.hukou_approve(application=application, by=staff["municipal"])
        assert application.status == Status.APPROVED and application.permit_number.startswith("ZQ-20261020-")
        assert application.due_date == datetime.date(2026, 10, 27)  # 5 working days for the move-out station
        assert application.acting_office() == offices["move_out"]  # Luoyang
    with time_machine.travel(at("2026-10-22"), tick=False):
        services.hukou_register_emigration(application=application, by=staff["move_out"])
        assert application.status == Status.EMIGRATED
        assert application.migration_certificate_number.startswith("QY-20261022-")
        assert application.emigrated_on == datetime.date(2026, 10, 22)
        assert application.due_date == datetime.date(2026, 10, 29)
    with time_machine.travel(at("2026-10-26"), tick=False):
        services.hukou_settle(application=application, by=staff["move_in"])
    application.refresh_from_db()
    assert application.status == Status.SETTLED and application.due_date is None and application.settled_at
    timeline = list(application.timeline())
    assert [(t.to_status, t.office_id) for t in timeline] == [
        (Status.SUBMITTED, None),
        (Status.ACCEPTED, offices["move_in"].pk),
        (Status.FORWARDED, offices["move_in"].pk),
        (Status.APPROVED, offices["municipal"].pk),
        (Status.EMIGRATED, offices["move_out"].pk),
        (Status.SETTLED, offices["move_in"].pk),
    ]
    # SMS and e-mail at each step, the last asking the applicant to print the registration form.
    expected = ["submitted", "accepted", "forwarded", "approved", "emigrated", "settled"]
    assert templates_sent(application, Channel.SMS) == [f"hukou/{name}" for name in expected]
    assert templates_sent(application, Channel.EMAIL) == [f"hukou/{name}" for name in expected]
    last_sms = OutboxMessage.objects.filter(user=application.applicant, channel=Channel.SMS).latest("pk")
    assert "常住人口登记表" in last_sms.body
    # Each office was told when the case reached its inbox.
    for office in ("move_in", "municipal", "move_out"):
        assert OutboxMessage.objects.filter(user=staff[office], template="hukou/inbox").exists()


def test_late_december_the_clock_reaches_into_2027_provisionally(offices, staff):
    with time_machine.travel(at("2026-12-21"), tick=False):
        application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
        services.hukou_accept(application=application, by=staff["move_in"])
    application.refresh_from_db()
    assert application.due_date.year == 2027 and application.due_date > datetime.date(2027, 1, 15)
    assert application.deadline_provisional is True


def test_information_request_pauses_and_the_reply_resumes_with_the_days_left(offices, staff):
    with time_machine.travel(at("2026-09-25"), tick=False):
        application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
        services.hukou_accept(application=application, by=staff["move_in"])
    with time_machine.travel(at("2026-10-09"), tick=False):
        services.hukou_request_info(application=application, by=staff["move_in"], message="出生证明")
        assert application.status == Status.INFO_REQUESTED and application.paused_at is not None
        assert application.workdays_left == 15  # 2026-10-09 .. 2026-10-29
        assert application.info_requested_in == Status.ACCEPTED
    with time_machine.travel(at("2026-10-20"), tick=False):
        services.hukou_resubmit(application=application, by=application.applicant, reply="已上传")
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED and application.paused_at is None
    assert application.due_date == datetime.date(2026, 11, 10)  # 15 working days from 2026-10-20
    assert application.clock_limit == 15 and application.citizen_reply == "已上传"
    assert "hukou/info_requested" in templates_sent(application, Channel.SMS)


def test_the_municipal_office_may_ask_for_information_and_gets_the_case_back(offices, staff):
    with time_machine.travel(at("2026-09-25"), tick=False):
        application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
        services.hukou_accept(application=application, by=staff["move_in"])
        services.hukou_forward(application=application, by=staff["move_in"], originals_seen_at_counter=True)
        with pytest.raises(TransitionNotAllowed):  # the move-in station no longer acts
            services.hukou_request_info(application=application, by=staff["move_in"], message="x")
        services.hukou_request_info(application=application, by=staff["municipal"], message="x")
    with time_machine.travel(at("2026-10-12"), tick=False):
        services.hukou_resubmit(application=application, by=application.applicant)
    assert application.status == Status.FORWARDED and application.acting_office() == offices["municipal"]


def test_a_problem_at_the_move_out_station_sends_the_case_back_and_resend_restarts_its_clock(offices, staff):
    with time_machine.travel(at("2026-11-02"), tick=False):
        application = MigrationApplicationFactory(offices=offices, forwarded=True, complete=True)
        services.hukou_approve(application=application, by=staff["municipal"])
        services.hukou_report_problem(application=application, by=staff["move_out"], problem="户籍记录不符")
        assert application.status == Status.RETURNED and application.acting_office() == offices["move_in"]
        assert application.due_date == datetime.date(2026, 11, 9)
    with time_machine.travel(at("2026-11-04"), tick=False):
        with pytest.raises(ValidationError):
            services.hukou_resend(application=application, by=staff["move_in"], note=" ")
        services.hukou_resend(application=application, by=staff["move_in"], note="已更正")
    assert application.status == Status.APPROVED and application.due_date == datetime.date(2026, 11, 11)
    assert "hukou/returned" in templates_sent(application)


# The office acting in each state, and the staff member of another office who tries.
OFFICE_STEPS = [
    (Status.SUBMITTED, "accept", "move_out"),
    (Status.ACCEPTED, "forward", "municipal"),
    (Status.FORWARDED, "approve", "move_in"),
    (Status.APPROVED, "register_emigration", "move_in"),
    (Status.RETURNED, "resend", "move_out"),
    (Status.EMIGRATED, "settle", "municipal"),
]


@pytest.mark.parametrize(("status", "step", "intruder"), OFFICE_STEPS)
def test_the_wrong_office_is_refused(offices, staff, status, step, intruder):
    application = MigrationApplicationFactory(offices=offices, status=status, complete=True)
    wrong = {k: staff[intruder] for k in staff}  # every role played by the intruder
    with pytest.raises(TransitionNotAllowed, match="belongs to"):
        run(step, application, wrong)
    application.refresh_from_db()
    assert application.status == status


def test_a_supervisor_above_the_station_may_act_and_a_citizen_never(offices):
    application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    city = offices["move_in"].parent
    supervisor = StaffFactory(office=city, role=Role.SUPERVISOR)
    with pytest.raises(TransitionNotAllowed):
        services.hukou_accept(application=application, by=UserFactory())
    services.hukou_accept(application=application, by=supervisor)
    assert application.status == Status.ACCEPTED


def test_staff_never_act_on_their_own_move(offices):
    officer = StaffFactory(office=offices["move_in"], id_number=make_id_number())
    application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    Mover.objects.create(application=application, name="警官", id_number=officer.id_number, relation=Relation.SPOUSE)
    with pytest.raises(TransitionNotAllowed, match="yourself"):
        services.hukou_accept(application=application, by=officer)
    own = MigrationApplicationFactory(offices=offices, submitted=True, applicant=officer, complete=True)
    with pytest.raises(TransitionNotAllowed, match="yourself"):
        services.hukou_accept(application=own, by=officer)


def test_rules_are_checked_again_when_an_officer_acts(offices, staff):
    application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    application.staying_members.update(is_new_head=False)  # the head moves out and nobody is named
    with pytest.raises(ValidationError) as caught:
        services.hukou_accept(application=application, by=staff["move_in"])
    assert "new_head_missing" in [e.code for e in caught.value.error_list]
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


def test_submit_needs_an_eligible_complete_application_of_the_applicant(offices, staff):
    application = MigrationApplicationFactory(offices=offices, origin_address="", complete=True)
    with pytest.raises(TransitionNotAllowed):
        services.hukou_submit(application=application, by=staff["move_in"])
    with pytest.raises(ValidationError):
        services.hukou_submit(application=application, by=application.applicant)
    assert application.status == Status.DRAFT and not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("status", "office"),
    [
        (Status.SUBMITTED, "move_in"),
        (Status.ACCEPTED, "move_in"),
        (Status.FORWARDED, "municipal"),
        (Status.APPROVED, "move_out"),
        (Status.RETURNED, "move_in"),
        (Status.EMIGRATED, "move_in"),
    ],
)
def test_paper_fallback_from_each_office_step_finishes_with_the_paper_numbers(offices, staff, status, office):
    application = MigrationApplicationFactory(
        offices=offices, status=status, due_date=datetime.date(2026, 12, 1), clock_limit=5, complete=True
    )
    with pytest.raises(ValidationError):
        services.hukou_switch_to_paper(application=application, by=staff[office], reason=" ")
    services.hukou_switch_to_paper(
        application=application, by=staff[office], reason="省级平台中断", paper_permit_number="豫准迁0001"
    )
    assert application.status == Status.PAPER and application.paper_switched_from == status
    assert application.due_date is None and application.acting_office() == offices["move_in"]
    with pytest.raises(ValidationError):  # the paper Migration Certificate number is still missing
        services.hukou_settle(application=application, by=staff["move_in"])
    services.hukou_settle(application=application, by=staff["move_in"], paper_migration_certificate_number="豫迁0002")
    application.refresh_from_db()
    assert application.status == Status.SETTLED
    assert (application.paper_permit_number, application.paper_migration_certificate_number) == (
        "豫准迁0001",
        "豫迁0002",
    )
    notes = [t.note for t in application.timeline()]
    assert "省级平台中断" in notes[0] and "豫准迁0001" in notes[-1] and "豫迁0002" in notes[-1]
    assert "paper" in notes[-1]
    assert templates_sent(application, Channel.SMS) == ["hukou/paper", "hukou/settled"]


def test_two_officers_on_stale_copies_one_wins(offices, staff):
    application = MigrationApplicationFactory(offices=offices, forwarded=True, complete=True)
    colleague = StaffFactory(office=offices["municipal"], role=Role.HOUSEHOLD_ADMIN)
    first = MigrationApplication.objects.get(pk=application.pk)
    second = MigrationApplication.objects.get(pk=application.pk)
    services.hukou_approve(application=first, by=staff["municipal"])
    with pytest.raises(TransitionConflict):
        services.hukou_refuse(application=second, by=colleague, reason="重复")
    application.refresh_from_db()
    assert application.status == Status.APPROVED and application.refusal_reason == ""
    assert application.timeline().count() == 1


def test_withdraw_and_refuse_stop_the_clock(offices, staff):
    application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    services.hukou_accept(application=application, by=staff["move_in"])
    services.hukou_withdraw(application=application, by=application.applicant)
    assert application.status == Status.WITHDRAWN and application.due_date is None
    refused = MigrationApplicationFactory(
        offices=offices, forwarded=True, due_date=datetime.date(2026, 12, 1), complete=True
    )
    services.hukou_refuse(application=refused, by=staff["municipal"], reason="不符合落户条件")
    refused.refresh_from_db()
    assert (refused.status, refused.due_date, refused.decided_by) == (Status.REFUSED, None, staff["municipal"])


def test_post_settlement_check_records_changes_with_evidence_once(offices, staff):
    application = MigrationApplicationFactory(offices=offices, settled=True, complete=True)
    mover = application.movers.get()
    kwargs = {"marital_status": MaritalStatus.MARRIED, "education": Education.BACHELOR, "employer": "郑州某公司"}
    with pytest.raises(TransitionNotAllowed):  # the move-out station does not check settlement
        post_settlement.hukou_record_post_settlement_check(
            application=application, by=staff["move_out"], mover=mover, **kwargs
        )
    with pytest.raises(ValidationError):
        post_settlement.hukou_record_post_settlement_check(
            application=application, by=staff["move_in"], mover=mover, changes_made="婚姻状况", **kwargs
        )
    check = post_settlement.hukou_record_post_settlement_check(
        application=application, by=staff["move_in"], mover=mover, changes_made="婚姻状况", evidence="结婚证", **kwargs
    )
    assert check.checked_by == staff["move_in"] and not application.post_settlement_check_pending
    assert "结婚证" in application.timeline().get().note
    with pytest.raises(TransitionConflict):
        post_settlement.hukou_record_post_settlement_check(
            application=application, by=staff["move_in"], mover=mover, **kwargs
        )
    assert PostSettlementCheck.objects.count() == 1
    unsettled = MigrationApplicationFactory(offices=offices, emigrated=True, complete=True)
    with pytest.raises(TransitionNotAllowed):
        post_settlement.hukou_record_post_settlement_check(
            application=unsettled, by=staff["move_in"], mover=unsettled.movers.get(), **kwargs
        )
