"""The queues, the sweeps and the public lookups use indexes: EXPLAIN of every query they run against tables made
big (PostgreSQL, real planner statistics) has no sequential scan of a big table.

Each test fills the tables it needs with 100 000 rows spread over 100 offices (a station then holds about 1 %,
as in a province), ANALYZEs them, runs the real page or task while capturing its SQL, and EXPLAINs every statement.
A sequential scan of a table of more than BIG_TABLE_ROWS rows fails the test with the plan.
"""

import datetime
import json
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Office, Role
from certificates.models import Application
from certificates.models import Status as NcrStatus
from familyplanning.models import FamilyPlanningApplication
from hukou.constants import Status as HukouStatus
from hukou.models import MigrationApplication
from portal.cases.deadlines import clock_start, sweep_deadlines
from portal.cases.services import next_case_number
from portal.feedback.models import Feedback, FeedbackKind
from portal.notify.delivery import outbox_due_ids
from portal.notify.models import Channel, OutboxMessage
from portal.verify.codes import new_code
from portal.verify.models import DocumentStatus, IssuedDocument, VerificationLog
from tests.factories import (
    ApplicationFactory,
    FamilyPlanningApplicationFactory,
    MigrationApplicationFactory,
    OfficeFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db]

ROWS = 100_000
BIG_TABLE_ROWS = 10_000
TODAY = datetime.date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("planner checks need PostgreSQL (the services tier)")


# --- making tables big ----------------------------------------------------------------------------------------


def multiply(model, template, rows, **overrides):
    """Copy the `template` row `rows` times with one INSERT … SELECT; `overrides` maps a column to an SQL
    expression of the series number g.i (unique columns must be overridden)."""
    table = model._meta.db_table
    columns = [
        f.column for f in model._meta.concrete_fields if not f.primary_key and not getattr(f, "generated", False)
    ]
    # "%" is the modulo of the expressions, not a parameter: doubled for the driver.
    expressions = [overrides.pop(column, f't."{column}"').replace("%", "%%") for column in columns]
    assert not overrides, f"unknown columns {overrides}"
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ({quoted}) SELECT {", ".join(expressions)} '  # noqa: S608 - our own identifiers
            f'FROM "{table}" t, generate_series(1, %s) AS g(i) WHERE t.id = %s',
            [rows, template.pk],
        )


def analyze(*models):
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def pick(values, modulo_of="g.i"):
    """SQL choosing values[i % len(values)] for series number i."""
    array = "ARRAY[" + ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values) + "]"
    return f"({array})[1 + {modulo_of} % {len(values)}]"


def applicants(count=2000):
    """Citizens to spread the cases over (about 50 cases each, as the /me/ benchmark in bench/pages.py has)."""
    from accounts.models import User

    tag = next_case_number("USR")[-5:]
    users = User.objects.bulk_create(
        User(username=f"bulk{tag}-{i}", email=f"bulk{tag}-{i}@example.test", real_name="张三") for i in range(count)
    )
    return [user.pk for user in users]


def case_overrides(model, offices, *, open_every=10):
    """A case table as years of service leave it: about one case in `open_every` open, the rest closed, open
    cases with running clocks due over the coming months (about 1 % of them due by tomorrow), some already flagged
    overdue."""
    open_statuses = list(model.OPEN_STATUSES)
    statuses = {value for value, _ in model._meta.get_field("status").choices}
    # Closed cases are mostly done (issued, settled, answered), some refused or withdrawn; none stays approved
    # for long (the worker issues within seconds), so the transient states are left to the template row.
    closed = [s for s in ("issued", "settled", "answered") if s in statuses] * 8
    closed += [s for s in ("refused", "withdrawn") if s in statuses]
    is_open = f"(g.i % {open_every} = 0)"
    return {
        # PREFIX-20200101-000001: a well-formed number (URLs accept only those), unique per row.
        "case_number": "split_part(t.case_number, '-', 1) || '-20200101-' || lpad(g.i::text, 6, '0')",
        "applicant_id": pick(applicants()),
        "office_id": pick([o.pk for o in offices]),
        "status": f"CASE WHEN {is_open} THEN {pick(open_statuses, f'(g.i / {open_every})')} ELSE {pick(closed)} END",
        "created_at": "now() - g.i * interval '5 minutes'",
        "updated_at": "now() - g.i * interval '5 minutes'",
        "submitted_at": "now() - g.i * interval '5 minutes'",
        "due_date": f"CASE WHEN {is_open} THEN DATE '{TODAY:%Y-%m-%d}' + (g.i % 1200) - 10 ELSE NULL END",
        "clock_limit": f"CASE WHEN {is_open} THEN 20 ELSE NULL END",
        "clock_started_on": f"CASE WHEN {is_open} THEN DATE '{TODAY:%Y-%m-%d}' - 20 ELSE NULL END",
        "paused_at": "NULL",
        "due_state": f"CASE WHEN {is_open} AND g.i % 7 = 0 THEN 'overdue' ELSE '' END",
    }


@pytest.fixture
def offices(db):
    """A hundred police stations, family-planning offices and household administrations under one city (its police
    bureau, and its health commission for the family-planning offices)."""
    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    health_commission = Office.objects.get(division_code="410100", kind=Office.Kind.CITY_HEALTH_COMMISSION)
    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    stations = [OfficeFactory(parent=zhengzhou) for _ in range(100)]
    return {
        "stations": stations,
        "station": stations[0],
        "move_in": stations[0],
        "move_out": OfficeFactory(parent=luoyang, division_code="410302"),
        "municipal": OfficeFactory(kind=Office.Kind.HOUSEHOLD_ADMIN, parent=zhengzhou, division_code="410100"),
        "fp_offices": [OfficeFactory(kind=Office.Kind.FAMILY_PLANNING, parent=health_commission) for _ in range(100)],
        "zhengzhou": zhengzhou,
    }


def big_ncr(offices):
    template = ApplicationFactory(office=offices["station"], status=NcrStatus.ACCEPTED, **clock_start(3))
    multiply(Application, template, ROWS, **case_overrides(Application, offices["stations"]))
    analyze(Application)


def big_fp(offices):
    template = FamilyPlanningApplicationFactory(office=offices["fp_offices"][0], status="accepted", **clock_start(20))
    multiply(
        FamilyPlanningApplication,
        template,
        ROWS,
        service=pick(["birth_registration", "only_child_certificate", "practice_licence", "birth_registration"]),
        **case_overrides(FamilyPlanningApplication, offices["fp_offices"]),
    )
    analyze(FamilyPlanningApplication)


def big_feedback(offices):
    template = Feedback.objects.create(
        case_number=next_case_number(Feedback.CASE_PREFIX),
        applicant=UserFactory(),
        office=offices["fp_offices"][0],
        kind=FeedbackKind.COMPLAINT,
        subject="办理太慢",
        submitted_at=timezone.now(),
        **clock_start(5),
    )
    multiply(Feedback, template, ROWS, **case_overrides(Feedback, offices["fp_offices"]))
    analyze(Feedback)


def big_hukou(offices):
    template = MigrationApplicationFactory(
        offices=offices,
        status=HukouStatus.FORWARDED,
        forwarded_at=timezone.now(),
        accepted_at=timezone.now(),
        complete=True,
        **clock_start(20),
    )
    overrides = case_overrides(MigrationApplication, offices["stations"])
    overrides.update(
        municipal_office_id=pick([offices["municipal"].pk, *[o.pk for o in offices["stations"][50:]]]),
        origin_office_id=pick([o.pk for o in reversed(offices["stations"])]),
        forwarded_at="CASE WHEN g.i % 3 = 0 THEN now() ELSE NULL END",
        permit_issued_at="CASE WHEN g.i % 5 = 0 THEN now() ELSE NULL END",
    )
    multiply(MigrationApplication, template, ROWS, **overrides)
    analyze(MigrationApplication)


# --- reading plans ----------------------------------------------------------------------------------------------


def big_tables():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples > %s "
            "AND relnamespace = 'public'::regnamespace",
            [BIG_TABLE_ROWS],
        )
        return {row[0] for row in cursor.fetchall()}


def relations(plan):
    found = {plan["Relation Name"]} if "Relation Name" in plan else set()
    for child in plan.get("Plans", ()):
        found |= relations(child)
    return found


def rows_read(plan, tables):
    """Rows each big table's scans fetched, by relation: what a query costs as the table grows."""
    read = {}
    relation = plan.get("Relation Name")
    if relation in tables and "Actual Rows" in plan:
        fetched = (
            plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0) + plan.get("Rows Removed by Index Recheck", 0)
        )
        read[relation] = read.get(relation, 0) + fetched * plan.get("Actual Loops", 1)
    for child in plan.get("Plans", ()):
        for name, count in rows_read(child, tables).items():
            read[name] = read.get(name, 0) + count
    return read


def seq_scans(plan, tables):
    found = []
    if plan.get("Actual Loops") == 0:
        return found  # a branch the executor never ran (the paginator's count behind a big table's estimate)
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in tables:
        # A scan that a LIMIT stopped at the first row it read (every row matches) read one row, not the table.
        read = plan.get("Actual Rows", 2) + plan.get("Rows Removed by Filter", 0)
        if read > 1:
            found.append(plan["Relation Name"])
    for child in plan.get("Plans", ()):
        found += seq_scans(child, tables)
    return found


def explain(sql):
    # Reading statements are run (ANALYZE) to count the rows they really fetch; writing ones only planned.
    reading = sql.lstrip().upper().startswith(("SELECT", "EXECUTE"))
    with connection.cursor() as cursor:
        cursor.execute(("EXPLAIN (ANALYZE, FORMAT JSON) " if reading else "EXPLAIN (FORMAT JSON) ") + sql)
        value = cursor.fetchone()[0]
    return (json.loads(value) if isinstance(value, str) else value)[0]["Plan"]


def table_rows():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        )
        return dict(cursor.fetchall())


def shape(sql):
    """The statement without its literals: a query repeated per row is explained once."""
    return re.sub(r"'[^']*'|\b\d+\b", "?", sql)


def assert_no_seq_scan_of_big_tables(queries, *, expect_tables, max_share=0.05):
    """EXPLAIN every statement captured that reads a big table; fail on a sequential scan of one, or on a read of
    more than `max_share` of its rows (an index that does not narrow the query to the office or the due rows is
    no better than a scan), with the plan. `max_share=None` checks scans only (a supervisor of a whole city)."""
    tables = big_tables()
    sizes = table_rows()
    assert set(expect_tables) <= tables, f"the tables were not made big: {set(expect_tables) - tables}"
    checked, failures, seen = 0, [], set()
    for query in queries:
        sql = query["sql"]
        # EXECUTE: the verification look-up is a server-side prepared statement (portal.verify.lookup).
        # "(SELECT …) UNION ALL (SELECT …)": the desk's counts of every service in one statement.
        if not sql.lstrip().lstrip("(").upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH", "EXECUTE")):
            continue
        if shape(sql) in seen:
            continue
        seen.add(shape(sql))
        plan = explain(sql)
        if not relations(plan) & tables:
            continue
        checked += 1
        scanned = seq_scans(plan, tables)
        if scanned:
            failures.append(f"Seq Scan on {scanned}:\n  {sql}\n  {json.dumps(plan, indent=1)[:3000]}")
        for table, count in rows_read(plan, tables).items():
            if max_share is not None and count > max_share * sizes[table]:
                failures.append(
                    f"{count} rows of {table} ({sizes[table]:.0f}) read:\n  {sql}\n  {json.dumps(plan, indent=1)[:3000]}"
                )
    assert checked, "no query touched a big table: the test checked nothing"
    assert not failures, "\n\n".join(failures)
    return checked


def index_scans(plan, table):
    """(index name, index condition) of every index scan of `table` in a plan."""
    found = []
    if plan.get("Relation Name") == table and "Index Name" in plan:
        found.append((plan["Index Name"], plan.get("Index Cond", "")))
    for child in plan.get("Plans", ()):
        found += index_scans(child, table)
    return found


def assert_flag_counts_by_due_date_range(queries, table, index):
    """The desk's due-soon and overdue counts read `index` (the acting office, then the due date) over a due-date
    range: `due_date <= horizon` and `due_date < today` in the index condition, not every open case of the office."""
    desk = [q["sql"] for q in queries if " UNION ALL " in q["sql"] or "COUNT(*)" in q["sql"]]
    assert desk, "the desk's counts were not run"
    scans = [scan for sql in desk for scan in index_scans(explain(sql), table)]
    bounded = [cond for name, cond in scans if name == index and "due_date" in cond]
    assert any("due_date < " in cond for cond in bounded), scans  # overdue
    assert any("due_date <= " in cond for cond in bounded), scans  # due soon


def test_no_index_holds_due_state_and_the_case_tables_keep_room_for_hot_updates(db):
    """The sweep's UPDATE of due_state is HOT when no index mentions the column (key or predicate) and the page has
    room for the new row version (the fillfactor the migrations set)."""
    from portal import registry

    services = {Application, FamilyPlanningApplication, Feedback, MigrationApplication}
    assert services <= set(registry.case_models())
    for model in registry.case_models():
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
            indexes = cursor.fetchall()
            cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [table])
            options = cursor.fetchone()[0] or []
        assert indexes, table
        assert [name for name, definition in indexes if "due_state" in definition] == [], table
        if model in services:  # not the tests' own sample case
            assert "fillfactor=85" in options, (table, options)


def capture(action):
    with CaptureQueriesContext(connection) as captured:
        result = action()
    return captured.captured_queries, result


def admin_queries(client, url, params=None):
    queries, response = capture(lambda: client.get(url, params or {}))
    assert response.status_code == 200, response.status_code
    return queries, response


def changelist(label):
    app_label, model_name = label.split(".")
    return reverse(f"admin:{app_label}_{model_name}_changelist")


# --- the service queues -----------------------------------------------------------------------------------------


def test_no_criminal_record_queue_of_a_station_and_of_a_supervisor(offices, staff_client):
    big_ncr(offices)
    url = changelist("certificates.application")
    officer = staff_client(StaffFactory(office=offices["station"]))
    searches = ({"q": "张三"}, {"q": "1234"}, {"q": "13812345678"}, {"q": "410105199001011234"})
    for params in (
        {},
        {"due": "overdue"},
        {"due": "due_soon"},
        {"due": "today"},
        {"status__exact": "accepted"},
        {"inbox": "all"},
        {"inbox": "finished"},
        {"inbox": "waiting"},
        {"assigned": "me"},
        *searches,
    ):
        queries, response = admin_queries(officer, url, params)
        assert response.context["cl"].result_count > 0 or params, params
        assert_no_seq_scan_of_big_tables(queries, expect_tables={"certificates_application"})
    # The desk: every service's counts in one query, by index; due soon and overdue by a range of the office's open
    # cases by due date (no index holds due_state, so the sweep's flags are HOT updates).
    queries, _ = admin_queries(officer, reverse("admin:index"))
    assert_no_seq_scan_of_big_tables(queries, expect_tables={"certificates_application"})
    assert_flag_counts_by_due_date_range(queries, "certificates_application", "ncr_app_office_open_due")
    supervisor = staff_client(StaffFactory(office=offices["zhengzhou"], role=Role.SUPERVISOR))
    queries, _ = admin_queries(supervisor, url, {"due": "overdue"})
    # A supervisor of the whole city sees every station: many rows are the honest answer, but not by a scan.
    assert_no_seq_scan_of_big_tables(queries, expect_tables={"certificates_application"}, max_share=None)


def test_family_planning_queue(offices, staff_client):
    big_fp(offices)
    url = changelist("familyplanning.familyplanningapplication")
    officer = staff_client(StaffFactory(office=offices["fp_offices"][0], role=Role.FAMILY_PLANNING_OFFICER))
    for params in ({}, {"due": "overdue"}, {"service": "birth_registration"}):
        queries, _ = admin_queries(officer, url, params)
        assert_no_seq_scan_of_big_tables(queries, expect_tables={"familyplanning_familyplanningapplication"})


def test_family_planning_feedback_queue(offices, staff_client):
    big_feedback(offices)
    url = changelist("feedback.feedback")
    officer = staff_client(StaffFactory(office=offices["fp_offices"][0], role=Role.FAMILY_PLANNING_OFFICER))
    for params in ({}, {"due": "overdue"}):
        queries, _ = admin_queries(officer, url, params)
        assert_no_seq_scan_of_big_tables(queries, expect_tables={"familyplanning_feedback"})


@pytest.mark.parametrize("desk", ["move_in", "municipal"])
def test_hukou_queue_of_each_office(offices, staff_client, desk):
    big_hukou(offices)
    role = Role.HOUSEHOLD_ADMIN if desk == "municipal" else Role.POLICE_OFFICER
    client = staff_client(StaffFactory(office=offices[desk], role=role))
    url = changelist("hukou.migrationapplication")
    for params in ({}, {"due": "overdue"}, {"inbox": "waiting"}, {"q": "1234"}):
        queries, _ = admin_queries(client, url, params)
        assert_no_seq_scan_of_big_tables(queries, expect_tables={"hukou_migrationapplication"})
    # The desk: each count by the office's own index entries (acting_office_id), never the table; due soon and
    # overdue by a due-date range of them.
    queries, _ = admin_queries(client, reverse("admin:index"))
    assert_no_seq_scan_of_big_tables(queries, expect_tables={"hukou_migrationapplication"})
    assert_flag_counts_by_due_date_range(queries, "hukou_migrationapplication", "hk_app_acting_due")


def sorted_rows(plan):
    """The rows of every Sort node of a plan: a queue read in its order from an index sorts nothing."""
    rows = plan.get("Actual Rows", 0) if plan.get("Node Type") == "Sort" else 0
    return rows + sum(sorted_rows(child) for child in plan.get("Plans", ()))


def test_the_desk_and_queues_of_a_city_supervisor(offices, staff_client):
    """A supervisor of the whole city (every station): the desk's counts and each service's default queue are read by
    index, never by a scan; the queue's first page comes from the index in due-date order (`*_open_by_due`), so no
    sort of every open case of the city."""
    big_ncr(offices)
    big_hukou(offices)
    tables = {"certificates_application", "hukou_migrationapplication"}
    supervisor = staff_client(StaffFactory(office=offices["zhengzhou"], role=Role.SUPERVISOR))
    queries, response = admin_queries(supervisor, reverse("admin:index"))
    assert_no_seq_scan_of_big_tables(queries, expect_tables=tables, max_share=None)
    assert {service.title for service in response.context["desk"]} >= {
        Application._meta.verbose_name_plural,
        MigrationApplication._meta.verbose_name_plural,
    }
    for model in (Application, MigrationApplication):
        queries, response = admin_queries(supervisor, changelist(model._meta.label_lower))
        assert response.context["cl"].result_count > 100, model
        assert_no_seq_scan_of_big_tables(queries, expect_tables=tables, max_share=None)
        table = f'FROM "{model._meta.db_table}"'
        listed = [q["sql"] for q in queries if table in q["sql"] and "ORDER BY" in q["sql"] and "LIMIT" in q["sql"]]
        assert listed, model
        assert sorted_rows(explain(listed[-1])) <= 100, (model, listed[-1])


# --- the sweeps ---------------------------------------------------------------------------------------------------


def test_deadline_sweep_reads_only_the_due_rows_of_every_service(offices, settings):
    from portal import registry

    settings.SMS_BACKEND = "database"
    big_ncr(offices)
    big_fp(offices)
    big_feedback(offices)
    big_hukou(offices)
    models = registry.case_models()
    assert {Application, FamilyPlanningApplication, Feedback, MigrationApplication} <= set(models)
    queries, counts = capture(lambda: sweep_deadlines(models, today=TODAY))
    assert counts["due_soon"] + counts["overdue"] > 0
    checked = assert_no_seq_scan_of_big_tables(
        queries,
        expect_tables={
            "certificates_application",
            "familyplanning_familyplanningapplication",
            "familyplanning_feedback",
            "hukou_migrationapplication",
        },
    )
    assert checked >= 4


def requeue_queries(offices, branch):
    from certificates.documents import CERTIFICATE, REFUSAL_NOTICE
    from portal.verify.issuing import documents_missing

    big_ncr(offices)
    queries, _ = capture(
        lambda: documents_missing((CERTIFICATE, REFUSAL_NOTICE), older_than=datetime.timedelta(minutes=3), limit=200)
    )
    return [q for q in queries if f"\"status\" = '{branch}'" in q["sql"]]


def test_requeue_sweeps_read_only_the_approvals_waiting_for_a_document(offices):
    from familyplanning.documents import DOCUMENT
    from portal.verify.issuing import documents_missing

    assert_no_seq_scan_of_big_tables(requeue_queries(offices, "approved"), expect_tables={"certificates_application"})
    big_fp(offices)
    queries, _ = capture(lambda: documents_missing((DOCUMENT,), older_than=datetime.timedelta(minutes=3), limit=200))
    assert_no_seq_scan_of_big_tables(queries, expect_tables={"familyplanning_familyplanningapplication"})


def test_requeue_sweep_reads_only_the_refusals_waiting_for_a_notice(offices):
    assert_no_seq_scan_of_big_tables(requeue_queries(offices, "refused"), expect_tables={"certificates_application"})


def test_outbox_relay_reads_only_due_messages(db):
    template = OutboxMessage.objects.create(channel=Channel.EMAIL, to="a@example.test", body="x", status="sent")
    multiply(
        OutboxMessage,
        template,
        ROWS,
        status="CASE WHEN g.i % 500 = 0 THEN 'pending' ELSE 'sent' END",
        next_attempt_at="CASE WHEN g.i % 500 = 0 THEN now() - interval '1 minute' ELSE NULL END",
        created_at="now() - g.i * interval '1 minute'",
    )
    analyze(OutboxMessage)
    queries, ids = capture(lambda: outbox_due_ids(limit=50))
    assert len(ids) == 50
    assert_no_seq_scan_of_big_tables(queries, expect_tables={"notify_outboxmessage"})


def test_message_centre_reads_only_the_users_rows(db):
    """The unread count on every signed-in page and the message centre's first page: the user's rows only."""
    from portal.notify import inbox

    users = applicants()
    template = OutboxMessage.objects.create(channel=Channel.SMS, to="+8613800000000", body="x", status="sent")
    multiply(
        OutboxMessage,
        template,
        ROWS,
        user_id=pick(users),
        read_at="CASE WHEN g.i % 3 = 0 THEN NULL ELSE now() END",
        secret="g.i % 7 = 0",
        created_at="now() - g.i * interval '1 minute'",
    )
    analyze(OutboxMessage)
    user = type(template).user.field.related_model.objects.get(pk=users[7])
    queries, count = capture(lambda: inbox.unread_count(user))
    assert count > 0
    assert_no_seq_scan_of_big_tables(queries, expect_tables={"notify_outboxmessage"})
    queries, page = capture(lambda: list(inbox.messages_for(user)[:20]))
    assert len(page) == 20
    assert_no_seq_scan_of_big_tables(queries, expect_tables={"notify_outboxmessage"})


# --- public lookups -----------------------------------------------------------------------------------------------


def test_verification_and_progress_lookups(offices, client, settings):
    settings.VERIFY_CACHE_SECONDS = 0  # the plans of the database look-ups, not the row cache's answers
    big_ncr(offices)
    application = Application.objects.filter(office=offices["station"]).exclude(status=NcrStatus.DRAFT).first()
    holder = application.applicant
    template = IssuedDocument.objects.create(
        code=new_code(),
        kind="ncr_certificate",
        title="无犯罪记录证明",
        source_type=ContentType.objects.get_for_model(Application),
        source_id=application.pk,
        holder=holder,
        holder_name=holder.real_name,
        issuing_office=offices["station"],
        issued_at=timezone.now(),
        status=DocumentStatus.VALID,
        sha256="0" * 64,
    )
    multiply(
        IssuedDocument,
        template,
        ROWS,
        code="upper(substr(md5(g.i::text), 1, 24))",
        source_id="t.source_id + g.i",
        sha256="md5(g.i::text) || md5(g.i::text || 'x')",
        holder_id="NULL",
        issued_at="now() - g.i * interval '1 minute'",
    )
    log = VerificationLog.objects.create(document=template, channel="page", result="valid")
    multiply(
        VerificationLog,
        log,
        ROWS,
        uid="gen_random_uuid()",
        at="now() - g.i * interval '1 second'",
        document_id=f"{template.pk} + g.i % 1000",
    )
    analyze(IssuedDocument, VerificationLog)

    pages = [
        lambda: client.get(reverse("verify:detail", kwargs={"code": template.code})),
        lambda: client.get(reverse("verify:api", kwargs={"code": template.code})),
        lambda: client.get(reverse("verify:detail", kwargs={"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"})),
        lambda: client.post(
            reverse("track"), {"case_number": application.case_number, "second_factor": holder.id_number[-4:]}
        ),
    ]
    for page in pages:
        queries, response = capture(page)
        assert response.status_code in (200, 404)
        assert_no_seq_scan_of_big_tables(queries, expect_tables={"verify_issueddocument", "certificates_application"})

    # The citizen's own pages: their cases and certificates among everybody's.
    client.force_login(holder)
    for url in (reverse("me"), reverse("certificates:index")):
        queries, response = capture(lambda url=url: client.get(url))
        assert response.status_code == 200
        assert_no_seq_scan_of_big_tables(queries, expect_tables={"verify_issueddocument", "certificates_application"})


# --- the big tables administrators browse ---------------------------------------------------------------------


def big_users():
    from accounts.models import User

    template = UserFactory()
    multiply(
        User,
        template,
        ROWS,
        username="'bulk' || g.i",
        email="'bulk' || g.i || '@example.test'",
        id_number="NULL",
        mobile="'+86139' || lpad(g.i::text, 8, '0')",
        date_joined="now() - g.i * interval '3 minutes'",
    )
    analyze(User)


@pytest.fixture
def estimate_big_counts(monkeypatch):
    """Unfiltered lists of these 100 000-row tables show the planner's estimate, as a province's would."""
    monkeypatch.setattr("portal.bigtables.ESTIMATE_ABOVE_ROWS", BIG_TABLE_ROWS)


def test_user_list_and_search(staff_client, offices, estimate_big_counts):
    big_users()
    client = staff_client(StaffFactory(office=offices["zhengzhou"], role=Role.ADMINISTRATOR))
    url = changelist("accounts.user")
    for params in (
        {},
        {"q": "bulk4217"},
        {"q": "BULK4217@EXAMPLE"},
        {"q": "41010519900307123X"},
        {"is_staff__exact": "1"},
    ):
        queries, _ = admin_queries(client, url, params)
        assert_no_seq_scan_of_big_tables(queries, expect_tables={"accounts_user"})


def test_outbox_issued_documents_and_verification_log_lists(staff_client, offices, estimate_big_counts):
    template = OutboxMessage.objects.create(channel=Channel.SMS, to="+8613800000000", body="x", status="sent")
    multiply(
        OutboxMessage,
        template,
        ROWS,
        status="CASE WHEN g.i % 1000 = 0 THEN 'failed' ELSE 'sent' END",
        created_at="now() - g.i * interval '1 minute'",
    )
    document = IssuedDocument.objects.create(
        code=new_code(),
        kind="ncr_certificate",
        title="无犯罪记录证明",
        source_type=ContentType.objects.get_for_model(Application),
        source_id=1,
        holder_name="张三",
        issuing_office=offices["station"],
        issued_at=timezone.now(),
        status=DocumentStatus.VALID,
    )
    multiply(
        IssuedDocument,
        document,
        ROWS,
        code="upper(substr(md5(g.i::text), 1, 24))",
        source_id="t.source_id + g.i",
        issuing_office_id=pick([o.pk for o in offices["stations"]]),
        issued_at="now() - g.i * interval '1 minute'",
        status="CASE WHEN g.i % 1000 = 0 THEN 'revoked' ELSE 'valid' END",
    )
    log = VerificationLog.objects.create(document=document, channel="page", result="valid")
    multiply(
        VerificationLog,
        log,
        ROWS,
        uid="gen_random_uuid()",
        at="now() - g.i * interval '1 second'",
        result="CASE WHEN g.i % 1000 = 0 THEN 'not_found' ELSE 'valid' END",
    )
    analyze(OutboxMessage, IssuedDocument, VerificationLog)
    client = staff_client(StaffFactory(office=None, is_superuser=True))
    checks = [
        ("notify.outboxmessage", {}),
        ("notify.outboxmessage", {"status__exact": "failed"}),
        ("verify.issueddocument", {}),
        ("verify.issueddocument", {"status__exact": "revoked"}),
        ("verify.issueddocument", {"q": document.code}),
        ("verify.verificationlog", {}),
        ("verify.verificationlog", {"result__exact": "not_found"}),
    ]
    for label, params in checks:
        queries, response = admin_queries(client, changelist(label), params)
        assert_no_seq_scan_of_big_tables(queries, expect_tables={"notify_outboxmessage", "verify_issueddocument"})
        if not params:
            assert response.context["cl"].result_count > 90_000  # the estimate, not a count
