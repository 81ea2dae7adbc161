"""The migration case model: creation, ID derivation, who acts in each state, queues and indexes."""

import datetime
import importlib

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from hukou import rules
from hukou.constants import (
    ACTOR_BY_STATUS,
    CLOCK_LIMITS,
    FINAL_STATUSES,
    OPEN_STATUSES,
    Actor,
    Grounds,
    Relation,
    Status,
)
from hukou.models import MigrationApplication, Mover, OriginMember, PostSettlementCheck
from hukou.workflow import WORKFLOW
from portal.cases import deadlines
from portal.cases.models import DueState
from portal.notify.models import OutboxMessage
from tests.factories import MigrationApplicationFactory, StaffFactory, identities

pytestmark = pytest.mark.django_db
XIAOMING = "410105201406010319"


def test_application_created_with_a_readable_hk_case_number(offices):
    application = MigrationApplicationFactory(
        offices=offices, origin_address="洛阳市老城区西大街1号", destination_address="郑州市金水路2号"
    )
    assert application.case_number.startswith("HK-")
    assert application.status == Status.DRAFT and application.is_draft and not application.is_open
    assert application.status_label() == Status.DRAFT.label


def test_mover_sex_and_birth_date_come_from_the_id_number(offices):
    application = MigrationApplicationFactory(offices=offices)
    mover = Mover.objects.create(application=application, name="王小明", id_number=XIAOMING, relation=Relation.CHILD)
    mover.refresh_from_db()
    assert (mover.sex, mover.birth_date) == ("M", datetime.date(2014, 6, 1))
    assert mover.age_on(datetime.date(2030, 5, 31)) == 15
    assert mover.age_on(datetime.date(2030, 6, 1)) == 16
    assert mover.masked_id_number == "4101**********0319"


def test_every_synthetic_identity_derives_as_the_test_data_says(offices):
    application = MigrationApplicationFactory(offices=offices)
    for n, person in enumerate(identities()["valid"]):
        mover = Mover.objects.create(
            application=application,
            name=person["name"],
            id_number=person["id_number"].lower(),
            relation=Relation.OTHER,
            position=n,
        )
        assert (mover.id_number, mover.sex, mover.birth_date.isoformat()) == (
            person["id_number"].upper(),
            person["sex"],
            person["birth_date"],
        )


def test_an_invalid_id_number_is_refused(offices):
    application = MigrationApplicationFactory(offices=offices)
    bad = identities()["invalid"][0]["id_number"]
    mover = Mover(application=application, name="某人", id_number=bad, relation=Relation.CHILD)
    with pytest.raises(ValidationError) as caught:
        mover.full_clean()
    assert "id_number" in caught.value.message_dict
    with pytest.raises(ValidationError):
        mover.save()
    assert not Mover.objects.exists()


def test_the_same_person_moves_once_per_application(offices):
    application = MigrationApplicationFactory(offices=offices)
    Mover.objects.create(application=application, name="王小明", id_number=XIAOMING, relation=Relation.CHILD)
    with pytest.raises(IntegrityError), transaction.atomic():
        Mover.objects.create(application=application, name="王小明", id_number=XIAOMING, relation=Relation.CHILD)


def test_staying_member_needs_an_id_number_or_a_birth_date(offices):
    application = MigrationApplicationFactory(offices=offices)
    by_date = OriginMember.objects.create(
        application=application, name="王小红", birth_date=datetime.date(2019, 2, 3), relation=Relation.CHILD
    )
    assert by_date.sex == "" and by_date.age_on(datetime.date(2026, 11, 24)) == 7
    by_number = OriginMember.objects.create(
        application=application, name="王小明", id_number=XIAOMING, relation=Relation.CHILD
    )
    assert by_number.birth_date == datetime.date(2014, 6, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        OriginMember.objects.create(application=application, name="某人", relation=Relation.OTHER)


def test_one_new_head_per_application(offices):
    application = MigrationApplicationFactory(offices=offices)
    first = OriginMember.objects.create(
        application=application,
        name="李四",
        birth_date=datetime.date(1975, 1, 1),
        relation=Relation.SPOUSE,
        is_new_head=True,
    )
    assert application.new_head == first
    with pytest.raises(IntegrityError), transaction.atomic():
        OriginMember.objects.create(
            application=application,
            name="赵敏",
            birth_date=datetime.date(1976, 1, 1),
            relation=Relation.SIBLING,
            is_new_head=True,
        )


def test_check_application_reads_the_saved_people_on_the_day(offices):
    """The head moves out, leaving 王小明 as the only (named) new head: refused the day before he turns 16."""
    application = MigrationApplicationFactory(offices=offices)
    Mover.objects.create(
        application=application, name="王芳", id_number="410105196507196913", relation=Relation.HEAD, is_applicant=True
    )
    OriginMember.objects.create(
        application=application, name="王小明", id_number=XIAOMING, relation=Relation.CHILD, is_new_head=True
    )
    before = rules.check_application(application, on=datetime.date(2030, 5, 31))
    assert [v.code for v in before] == ["origin_left_with_minors", "new_head_under_16"]
    assert rules.check_application(application, on=datetime.date(2030, 6, 1)) == []


def test_check_application_sees_uploaded_powers_of_attorney(offices, tmp_path, settings):
    from portal.documents.models import Document

    application = MigrationApplicationFactory(offices=offices, grounds=Grounds.EMPLOYMENT)
    mover = Mover.objects.create(
        application=application,
        name="陈静",
        id_number="410105196507196913",
        relation=Relation.HEAD,
        is_applicant=True,
        present=False,
    )
    assert [v.code for v in rules.check_application(application, on=datetime.date(2026, 11, 24))] == [
        "absent_without_power_of_attorney"
    ]
    mover.power_of_attorney = Document.objects.create(
        owner=application.applicant,
        kind="power_of_attorney",
        file="x.pdf",
        mime_type="application/pdf",
        size=1,
        sha256="0" * 64,
    )
    mover.save()
    assert rules.check_application(application, on=datetime.date(2026, 11, 24)) == []


# --- who acts ------------------------------------------------------------------------------------------

EXPECTED_ACTING = {
    Status.DRAFT: None,
    Status.SUBMITTED: "move_in",
    Status.ACCEPTED: "move_in",
    Status.INFO_REQUESTED: None,
    Status.FORWARDED: "municipal",
    Status.APPROVED: "move_out",
    Status.RETURNED: "move_in",
    Status.EMIGRATED: "move_in",
    Status.PAPER: "move_in",
    Status.SETTLED: None,
    Status.REFUSED: None,
    Status.WITHDRAWN: None,
}


def test_expectations_cover_every_status():
    assert set(EXPECTED_ACTING) == set(Status)


@pytest.mark.parametrize(("status", "who"), EXPECTED_ACTING.items())
def test_acting_office_per_status(offices, status, who):
    application = MigrationApplicationFactory(offices=offices, status=status)
    expected = offices[who] if who else None
    assert application.acting_office() == expected
    if who:
        assert deadlines.deadline_office(application) == expected
        assert list(MigrationApplication.objects.acting_for(expected)) == [application]
        others = [o for key, o in offices.items() if key != who]
        assert not MigrationApplication.objects.acting_for(others).exists()
    else:
        assert not MigrationApplication.objects.acting_for(list(offices.values())).exists()
    # The deadline sweep's SQL names the same office as deadline_office() (the move-in station when nobody else acts).
    acting = MigrationApplication.objects.annotate(acting=MigrationApplication.acting_office_expression())
    assert acting.values_list("acting", flat=True).get() == deadlines.deadline_office(application).pk


@pytest.mark.parametrize(("status", "who"), EXPECTED_ACTING.items())
def test_the_database_keeps_the_acting_office_column_on_every_change_of_status(offices, status, who):
    """acting_office_id (the inbox's one indexed predicate) is computed by the database: written by a plain UPDATE of
    the status, as a transition writes it, it names the office acting_office() names."""
    application = MigrationApplicationFactory(offices=offices, status=Status.SUBMITTED)
    MigrationApplication.objects.filter(pk=application.pk).update(status=status)
    stored = MigrationApplication.objects.values_list("acting_office_id", flat=True).get(pk=application.pk)
    application.refresh_from_db()
    assert stored == (offices[who].pk if who else None)
    assert stored == (application.acting_office().pk if application.acting_office() else None)


def test_acting_for_takes_an_office_subtree(offices):
    application = MigrationApplicationFactory(offices=offices, approved=True)
    luoyang = offices["move_out"].parent
    assert list(MigrationApplication.objects.acting_for(luoyang.subtree())) == [application]
    assert not MigrationApplication.objects.acting_for(offices["move_in"].parent.subtree()).exists()


def test_reached_shows_each_office_a_case_only_from_its_step(offices):
    application = MigrationApplicationFactory(offices=offices, submitted=True, submitted_at=timezone.now())
    reached = MigrationApplication.objects.reached
    assert list(reached(offices["move_in"])) == [application]
    assert not reached(offices["municipal"]).exists() and not reached(offices["move_out"]).exists()
    MigrationApplication.objects.filter(pk=application.pk).update(status=Status.FORWARDED, forwarded_at=timezone.now())
    assert reached(offices["municipal"]).exists() and not reached(offices["move_out"]).exists()
    # Refused by the municipal administration: the move-out station never sees it.
    MigrationApplication.objects.filter(pk=application.pk).update(status=Status.REFUSED)
    assert not reached(offices["move_out"]).exists()
    MigrationApplication.objects.filter(pk=application.pk).update(
        status=Status.SETTLED, permit_issued_at=timezone.now()
    )
    assert all(reached(o).exists() for o in offices.values())


def test_deadline_sweep_notifies_the_office_acting_in_the_step(offices):
    municipal_officer = StaffFactory(office=offices["municipal"], role="household_admin")
    move_in_officer = StaffFactory(office=offices["move_in"])
    application = MigrationApplicationFactory(offices=offices, forwarded=True, due_date=datetime.date(2026, 11, 20))
    counts = deadlines.sweep_deadlines([MigrationApplication], today=datetime.date(2026, 11, 24))
    assert counts == {"due_soon": 0, "overdue": 1}
    deadlines.send_deadline_digests()  # the notify task the sweep publishes
    application.refresh_from_db()
    assert application.due_state == DueState.OVERDUE
    recipients = set(OutboxMessage.objects.values_list("to", flat=True))
    assert municipal_officer.email in recipients and move_in_officer.email not in recipients


# --- the step table ---------------------------------------------------------------------------------------


def test_step_table_is_consistent():
    # The post-settlement check is recorded after the move, without a change of status.
    STEPS = {step.name: step for step in WORKFLOW.steps if step.name != "check"}
    reachable = {Status.DRAFT} | {step.to for step in STEPS.values() if step.to}
    assert reachable == set(Status)
    for name, step in STEPS.items():
        for status in step.allowed_from:
            assert status not in FINAL_STATUSES, name
            if step.by_officer:  # an officer acts only where an office, not the applicant, is the actor
                assert ACTOR_BY_STATUS[status] != Actor.APPLICANT, (name, status)
    assert set(CLOCK_LIMITS) <= set(OPEN_STATUSES)
    assert all(ACTOR_BY_STATUS.get(s) not in (None, Actor.APPLICANT) for s in OPEN_STATUSES)
    # Info requests only where a clock runs, because the request pauses it.
    assert set(STEPS["request_info"].allowed_from) <= set(OPEN_STATUSES)
    assert CLOCK_LIMITS[Status.ACCEPTED] == 20 and CLOCK_LIMITS[Status.APPROVED] == CLOCK_LIMITS[Status.EMIGRATED] == 5


# --- post-settlement check -------------------------------------------------------------------------------


def test_post_settlement_check_pending_until_every_mover_is_checked(offices):
    application = MigrationApplicationFactory(offices=offices, settled=True)
    officer = StaffFactory(office=offices["move_in"])
    first = Mover.objects.create(
        application=application, name="王芳", id_number="410105196507196913", relation=Relation.HEAD
    )
    second = Mover.objects.create(application=application, name="王小明", id_number=XIAOMING, relation=Relation.CHILD)
    assert application.post_settlement_check_pending
    PostSettlementCheck.objects.create(mover=first, marital_status="married", education="bachelor", checked_by=officer)
    assert application.post_settlement_check_pending
    PostSettlementCheck.objects.create(
        mover=second,
        marital_status="unmarried",
        education="primary",
        checked_by=officer,
        changes_made="文化程度由“无”改为“小学”",
        evidence="学籍证明",
    )
    assert not application.post_settlement_check_pending


def test_post_settlement_changes_need_the_evidence_named(offices):
    application = MigrationApplicationFactory(offices=offices, settled=True)
    mover = Mover.objects.create(
        application=application, name="王芳", id_number="410105196507196913", relation=Relation.HEAD
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        PostSettlementCheck.objects.create(
            mover=mover,
            marital_status="married",
            education="bachelor",
            changes_made="婚姻状况改为已婚",
            checked_by=StaffFactory(office=offices["move_in"]),
        )


# --- indexes and migrations --------------------------------------------------------------------------------


def test_sweep_partial_index_is_in_the_migration_and_matches_open_statuses():
    migration = importlib.import_module("hukou.migrations.0001_initial").Migration
    # The acceptance clock added the submitted state: the index was made again with it.
    latest = importlib.import_module("hukou.migrations.0004_sweep_index_includes_submitted").Migration
    [index] = [
        op.index for op in latest.operations if getattr(op, "index", None) and op.index.name == "hk_app_open_due"
    ]
    assert index.fields == ["due_date"]
    condition = dict(index.condition.children)
    assert set(condition["status__in"]) == {s.value for s in OPEN_STATUSES}
    assert condition["paused_at__isnull"] is True
    names = {op.index.name for op in migration.operations if getattr(op, "index", None)}
    assert {"hk_app_office_queue", "hk_app_municipal_queue", "hk_app_origin_queue"} <= names


def test_sweep_partial_index_exists_in_the_database():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, MigrationApplication._meta.db_table)
    assert constraints["hk_app_open_due"]["columns"] == ["due_date"]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", ["hk_app_open_due"])
            (sql,) = cursor.fetchone()
        assert "WHERE" in sql and "paused_at" in sql and "'forwarded'" in sql


def test_no_missing_migrations():
    call_command("makemigrations", "hukou", "--check", "--dry-run", verbosity=0)
