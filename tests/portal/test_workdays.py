"""The working-day clock: official calendar, table overrides, provisional years, invalidation and the year check."""

import datetime
import io
import random
import uuid

import chinese_calendar
import pytest
import time_machine
from django.core import checks
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from portal.cases import deadlines
from portal.cases import services as case_services
from portal.cases import tasks as case_tasks
from portal.notify.models import OutboxMessage
from portal.notify.services import render_message
from portal.workdays import calendar
from portal.workdays import tasks as workday_tasks
from portal.workdays.calendar import Deadline, add_workdays, day_info, is_workday, workdays_between
from portal.workdays.checks import check_calendar_years
from portal.workdays.models import CalendarDay, CalendarYear, DayKind, MissingYearNotice
from portal.workdays.services import CalendarError, calendar_check_years, calendar_year_load_official
from tests.factories import StaffFactory, UserFactory
from tests.testapp.models import SampleCase

pytestmark = pytest.mark.django_db
D = datetime.date
TZ = timezone.get_default_timezone()


@pytest.fixture(autouse=True)
def fresh_calendar():
    """Each test starts and ends with no cached years, so rows rolled back with a test are never remembered."""
    calendar.clear_caches()
    yield
    calendar.clear_caches()


@pytest.fixture
def recompute_runs(monkeypatch):
    """Run the recompute task in-process where it would be published, and count how often it was queued."""
    calls = []

    def delay(*args, **kwargs):
        calls.append((args, kwargs))
        return case_tasks.recompute_provisional_deadlines(*args, **kwargs)

    monkeypatch.setattr(case_tasks.recompute_provisional_deadlines, "delay", delay)
    return calls


@pytest.fixture
def administrator(db):
    return StaffFactory(role="administrator", office=None)


# --- the official calendar ------------------------------------------------------------------------


def test_the_design_example_counts_over_mid_autumn_and_national_day_with_the_make_up_saturday():
    assert add_workdays(D(2026, 9, 25), 20) == Deadline(D(2026, 10, 29), provisional=False)


def test_national_day_2026_is_off_and_its_make_up_saturday_is_on():
    for day in range(1, 8):
        assert not is_workday(D(2026, 10, day)), day
    assert is_workday(D(2026, 10, 10))  # Saturday, make-up working day
    assert day_info(D(2026, 10, 10)) == (True, False, calendar.SOURCE_OFFICIAL)
    assert not is_workday(D(2026, 10, 11))  # the Sunday after is an ordinary day off
    # Friday 9 October is day 1, the make-up Saturday day 2, Monday 12 October day 3.
    assert add_workdays(D(2026, 10, 8), 2) == Deadline(D(2026, 10, 10), provisional=False)
    assert add_workdays(D(2026, 10, 8), 3).date == D(2026, 10, 12)


def test_spring_festival_2026_with_both_make_up_saturdays():
    assert is_workday(D(2026, 2, 14)) and is_workday(D(2026, 2, 28))  # Saturdays, make-up working days
    assert not any(is_workday(D(2026, 2, d)) for d in range(15, 24))
    assert add_workdays(D(2026, 2, 13), 1).date == D(2026, 2, 14)
    assert add_workdays(D(2026, 2, 13), 2).date == D(2026, 2, 24)
    assert add_workdays(D(2026, 2, 13), 7).date == D(2026, 3, 2)  # 14, 24, 25, 26, 27, 28 Feb, 2 Mar
    assert workdays_between(D(2026, 2, 13), D(2026, 2, 23)) == 1


@pytest.mark.parametrize(
    "start",
    [D(2026, 10, 1), D(2026, 10, 3), D(2026, 10, 4), D(2026, 10, 7)],
    ids=["holiday-thursday", "holiday-saturday", "holiday-sunday", "last-holiday"],
)
def test_from_a_non_working_start_the_first_working_day_after_it_is_day_one(start):
    assert add_workdays(start, 1) == Deadline(D(2026, 10, 8), provisional=False)
    assert add_workdays(start, 3).date == D(2026, 10, 10)


def test_from_an_ordinary_weekend_and_zero_days():
    assert add_workdays(D(2026, 11, 21), 1).date == D(2026, 11, 23)  # Saturday -> Monday
    assert add_workdays(D(2026, 11, 20), 1).date == D(2026, 11, 23)  # Friday -> Monday
    assert add_workdays(D(2026, 11, 21), 0) == Deadline(D(2026, 11, 21), provisional=False)
    assert add_workdays(D(2027, 3, 3), 0) == Deadline(D(2027, 3, 3), provisional=True)
    with pytest.raises(ValueError):
        add_workdays(D(2026, 11, 20), -1)


def test_datetimes_count_from_their_local_date():
    late_evening = datetime.datetime(2026, 9, 25, 23, 30, tzinfo=TZ)
    assert add_workdays(late_evening, 20).date == D(2026, 10, 29)
    # 16:30 UTC on 30 September is already 1 October (a holiday) in China.
    assert add_workdays(datetime.datetime(2026, 9, 30, 16, 30, tzinfo=datetime.UTC), 1).date == D(2026, 10, 8)
    assert is_workday(datetime.datetime(2026, 10, 10, 9, 0, tzinfo=TZ))


# --- years without official data ------------------------------------------------------------------


def test_late_december_2026_reaches_into_2027_provisionally_without_crashing():
    # 29, 30, 31 Dec; 1 Jan 2027 is an estimated holiday; 4, 5 Jan.
    assert add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 5), provisional=True)
    deadline = add_workdays(D(2026, 12, 28), 20)
    assert deadline.provisional and deadline.date == D(2027, 1, 26)
    assert workdays_between(D(2026, 12, 28), deadline.date) == 20
    # Staying inside 2026 stays official.
    assert add_workdays(D(2026, 12, 1), 5) == Deadline(D(2026, 12, 8), provisional=False)
    assert add_workdays(D(2026, 12, 24), 5) == Deadline(D(2026, 12, 31), provisional=False)


def test_estimated_years_are_monday_to_friday_minus_the_holidays_librarys_estimates():
    assert day_info(D(2027, 1, 1)) == (False, True, calendar.SOURCE_ESTIMATE)  # Friday, New Year
    assert day_info(D(2027, 1, 4)) == (True, True, calendar.SOURCE_ESTIMATE)
    assert day_info(D(2027, 1, 9)) == (False, True, calendar.SOURCE_ESTIMATE)  # Saturday
    assert not is_workday(D(2027, 10, 1))  # National Day, estimated
    assert not calendar.year_is_official(2027) and calendar.year_is_official(2026)


@pytest.mark.parametrize("start", [D(2030, 9, 27), D(1985, 2, 18), D(1990, 12, 28), D(2099, 12, 30), D(1, 1, 1)])
def test_any_year_far_from_the_librarys_data_is_estimated_and_never_raises(start):
    for n in (0, 1, 5, 20, 60):
        deadline = add_workdays(start, n)
        assert deadline.provisional
        assert workdays_between(start, deadline.date) == n
        if n:
            assert is_workday(deadline.date) and deadline.date.weekday() < 5


def test_estimated_holidays_are_skipped_in_2030_and_1985():
    # National Day 2030: Tuesday 1 to Thursday 3 October (estimates) are skipped.
    assert add_workdays(D(2030, 9, 30), 1).date == D(2030, 10, 4)
    # Spring Festival 1985: 20-22 February.
    assert add_workdays(D(1985, 2, 19), 1) == Deadline(D(1985, 2, 25), provisional=True)


def test_a_warning_is_logged_once_per_process_and_year(caplog):
    with caplog.at_level("WARNING", logger="portal.workdays.calendar"):
        add_workdays(D(2026, 12, 28), 5)
        add_workdays(D(2027, 2, 1), 5)
        add_workdays(D(2026, 12, 1), 5)  # official: no warning
    warnings = [r.getMessage() for r in caplog.records if r.name == "portal.workdays.calendar"]
    assert len(warnings) == 1 and "2027" in warnings[0]


# --- properties -----------------------------------------------------------------------------------


def test_workdays_between_inverts_add_workdays_for_many_starts_and_limits():
    rng = random.Random(20261124)
    starts = [D(2025, 12, 20) + datetime.timedelta(days=rng.randrange(0, 900)) for _ in range(150)]
    starts += [D(2026, 9, 25), D(2026, 10, 1), D(2026, 2, 14), D(2026, 12, 31), D(2003, 12, 25)]
    for start in starts:
        for n in (0, 1, 2, 3, 5, 20, 45):
            deadline = add_workdays(start, n)
            assert workdays_between(start, deadline.date) == n, (start, n)
            if n:
                assert is_workday(deadline.date), (start, n)
                # Not a day earlier: the day before the deadline leaves one working day short.
                assert workdays_between(start, deadline.date - datetime.timedelta(days=1)) == n - 1, (start, n)


def test_workdays_between_is_zero_backwards_and_additive():
    a, b, c = D(2026, 9, 1), D(2026, 12, 15), D(2027, 4, 30)
    assert workdays_between(b, a) == 0 and workdays_between(a, a) == 0
    assert workdays_between(a, c) == workdays_between(a, b) + workdays_between(b, c)
    brute = sum(is_workday(a + datetime.timedelta(days=i)) for i in range(1, (c - a).days + 1))
    assert workdays_between(a, c) == brute


def test_the_official_years_match_the_library_day_by_day():
    day = D(2025, 1, 1)
    while day.year < 2027:
        assert is_workday(day) == chinese_calendar.is_workday(day), day
        day += datetime.timedelta(days=1)


# --- the table wins -------------------------------------------------------------------------------


def test_a_holiday_row_on_a_working_day_moves_the_deadline():
    assert add_workdays(D(2026, 9, 25), 20).date == D(2026, 10, 29)
    CalendarDay.objects.create(date=D(2026, 10, 12), kind=DayKind.HOLIDAY, name="test closure")
    calendar.bump_version()
    assert day_info(D(2026, 10, 12)) == (False, False, calendar.SOURCE_TABLE)
    assert add_workdays(D(2026, 9, 25), 20) == Deadline(D(2026, 10, 30), provisional=False)


def test_a_workday_row_makes_a_sunday_count_and_is_not_provisional_in_an_estimated_year():
    CalendarDay.objects.create(date=D(2027, 1, 10), kind=DayKind.WORKDAY, name="调休")
    calendar.bump_version()
    assert day_info(D(2027, 1, 10)) == (True, False, calendar.SOURCE_TABLE)
    # From Saturday 9 January the Sunday make-up day is day 1, and only table days were counted.
    assert add_workdays(D(2027, 1, 9), 1) == Deadline(D(2027, 1, 10), provisional=False)
    assert add_workdays(D(2027, 1, 9), 2) == Deadline(D(2027, 1, 11), provisional=True)


def test_a_complete_year_in_the_table_is_official():
    CalendarYear.objects.create(year=2027, complete=True)
    CalendarDay.objects.create(date=D(2027, 1, 1), kind=DayKind.HOLIDAY, name="元旦")
    CalendarDay.objects.create(date=D(2027, 1, 4), kind=DayKind.HOLIDAY, name="元旦")
    calendar.bump_version()
    assert calendar.year_is_official(2027)
    assert day_info(D(2027, 1, 5)) == (True, False, calendar.SOURCE_TABLE_YEAR)
    assert add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 6), provisional=False)
    # Days the estimate would skip count as ordinary days once the administrators say the year is complete.
    assert is_workday(D(2027, 10, 1))


def test_another_process_sees_a_change_through_the_shared_version():
    assert add_workdays(D(2026, 9, 25), 20).date == D(2026, 10, 29)
    # A row written elsewhere: this process keeps its cached year until the version changes...
    CalendarDay.objects.create(date=D(2026, 10, 12), kind=DayKind.HOLIDAY)
    assert add_workdays(D(2026, 9, 25), 20).date == D(2026, 10, 29)
    # ...which the writing process publishes in the shared cache; a new request or task re-reads it.
    cache.set(calendar.VERSION_KEY, uuid.uuid4().hex, timeout=None)
    calendar.mark_stale()
    assert add_workdays(D(2026, 9, 25), 20).date == D(2026, 10, 30)


def test_one_query_per_year_then_none(django_assert_num_queries):
    with django_assert_num_queries(3):  # complete years, 2026 rows, 2027 rows
        add_workdays(D(2026, 12, 28), 20)
    with django_assert_num_queries(0):
        for start in (D(2026, 12, 28), D(2026, 3, 2), D(2027, 6, 1)):
            add_workdays(start, 20)
            workdays_between(start, D(2027, 12, 31))


# --- loading the official calendar ----------------------------------------------------------------


def test_load_official_calendar_copies_the_librarys_year_and_changes_no_result():
    out = io.StringIO()
    call_command("load_official_calendar", "2026", stdout=out)
    assert "2026" in out.getvalue()
    assert CalendarYear.objects.get(year=2026).complete
    row = CalendarDay.objects.get(date=D(2026, 10, 10))
    assert (row.kind, row.name) == (DayKind.WORKDAY, "国庆节")
    assert CalendarDay.objects.get(date=D(2026, 2, 17)).name == "春节"
    assert CalendarDay.objects.filter(date__year=2026, kind=DayKind.HOLIDAY).count() == sum(
        1 for d in chinese_calendar.holidays if d.year == 2026
    )
    assert day_info(D(2026, 10, 10)) == (True, False, calendar.SOURCE_TABLE)
    assert add_workdays(D(2026, 9, 25), 20) == Deadline(D(2026, 10, 29), provisional=False)


def test_load_official_calendar_refuses_a_year_the_library_lacks():
    with pytest.raises(CalendarError):
        calendar_year_load_official(year=2027)
    with pytest.raises(CommandError):
        call_command("load_official_calendar", "2027")
    assert not CalendarDay.objects.exists()


# --- the admin ------------------------------------------------------------------------------------


def make_provisional_case(office):
    case = SampleCase.objects.create(
        case_number=case_services.next_case_number("TST"),
        applicant=UserFactory(),
        office=office,
        status="submitted",
        **deadlines.clock_start(5, D(2026, 12, 28)),
    )
    assert (case.due_date, case.deadline_provisional) == (D(2027, 1, 5), True)
    return case


def test_an_administrator_filling_in_the_year_recomputes_provisional_deadlines(
    administrator, staff_client, station_a, recompute_runs, django_capture_on_commit_callbacks
):
    case = make_provisional_case(station_a)
    client = staff_client(administrator)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("admin:workdays_calendarday_add"),
            {"date": "2027-01-04", "kind": DayKind.HOLIDAY, "name": "元旦", "note": "国办发明电"},
        )
    assert response.status_code == 302, response.content
    # The table's two (caches, recompute), then the outbox's for the applicant's message about the new date.
    assert [c.__name__ for c in callbacks[:2]] == ["bump_version", "_queue_recompute"] and len(recompute_runs) == 1
    case.refresh_from_db()
    assert (case.due_date, case.deadline_provisional) == (D(2027, 1, 6), True)  # moved, still an estimate

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:workdays_calendaryear_add"), {"year": "2027", "complete": "on"})
    assert response.status_code == 302
    assert len(recompute_runs) == 2
    case.refresh_from_db()
    # 2027 is complete and 1 January has no row: an ordinary Friday; 4 January is the holiday entered.
    assert (case.due_date, case.deadline_provisional) == (D(2027, 1, 5), False)

    row = CalendarDay.objects.get(date=D(2027, 1, 4))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:workdays_calendarday_delete", args=[row.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert len(recompute_runs) == 3
    assert add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 4), provisional=False)
    case.refresh_from_db()
    assert case.due_date == D(2027, 1, 5)  # an official deadline is not moved by later table edits


def test_the_admin_queues_the_recompute_only_on_commit(
    administrator, staff_client, recompute_runs, django_capture_on_commit_callbacks
):
    client = staff_client(administrator)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("admin:workdays_calendarday_add"), {"date": "2027-05-06", "kind": DayKind.HOLIDAY})
        assert recompute_runs == []
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()
    assert len(recompute_runs) == 1 and not is_workday(D(2027, 5, 6))


def test_the_admin_action_loads_the_official_calendar(
    administrator, staff_client, django_capture_on_commit_callbacks, recompute_runs
):
    entry = CalendarYear.objects.create(year=2025)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client(administrator).post(
            reverse("admin:workdays_calendaryear_changelist"),
            {"action": "load_official_calendar", "_selected_action": [entry.pk]},
        )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.complete and CalendarDay.objects.filter(date__year=2025).exists()
    assert day_info(D(2025, 10, 1)) == (False, False, calendar.SOURCE_TABLE)
    assert recompute_runs


def test_the_changelist_filters_by_kind_and_year(administrator, staff_client):
    CalendarDay.objects.create(date=D(2026, 10, 10), kind=DayKind.WORKDAY, name="国庆节")
    CalendarDay.objects.create(date=D(2027, 1, 1), kind=DayKind.HOLIDAY, name="元旦")
    client = staff_client(administrator)
    url = reverse("admin:workdays_calendarday_changelist")
    page = client.get(url, {"year": "2027"}).content.decode()
    assert "元旦" in page and "国庆节" not in page
    page = client.get(url, {"kind__exact": "workday"}).content.decode()
    assert "国庆节" in page and "元旦" not in page
    CalendarYear.objects.create(year=2027)
    CalendarYear.objects.create(year=2025)
    page = client.get(
        reverse("admin:workdays_calendaryear_changelist"), headers={"accept-language": "en"}
    ).content.decode()
    assert "estimated: deadlines are provisional" in page and "official: chinesecalendar library" in page


def test_only_administrators_may_change_the_calendar(staff_client, officer_a, administrator):
    add_url = reverse("admin:workdays_calendarday_add")
    assert staff_client(officer_a).get(add_url).status_code == 403
    assert staff_client(administrator).get(add_url).status_code == 200
    assert administrator.has_perms(
        [
            "workdays.add_calendarday",
            "workdays.change_calendarday",
            "workdays.delete_calendarday",
            "workdays.change_calendaryear",
            "workdays.view_missingyearnotice",
        ]
    )


# --- the missing-year notice ----------------------------------------------------------------------


@time_machine.travel(datetime.datetime(2026, 11, 24, 3, 0, tzinfo=TZ), tick=False)
def test_administrators_are_told_once_that_next_year_is_missing(administrator):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    StaffFactory(role="police_officer")  # not told
    result = workday_tasks.check_calendar_years()
    assert result["notified"] == [2027]
    notice = MissingYearNotice.objects.get()
    assert (notice.year, notice.recipients) == (2027, 2)
    messages = OutboxMessage.objects.filter(template="workdays/missing_year")
    assert sorted(m.to for m in messages) == sorted([administrator.email, superuser.email])
    assert all("2027" in m.subject and "2027" in m.body for m in messages)

    assert workday_tasks.check_calendar_years()["notified"] == []
    assert calendar_check_years() == []
    assert OutboxMessage.objects.filter(template="workdays/missing_year").count() == 2


@time_machine.travel(datetime.datetime(2027, 1, 2, 3, 0, tzinfo=TZ), tick=False)
def test_in_a_missing_year_both_it_and_the_next_are_reported_unless_the_table_has_them(administrator):
    CalendarYear.objects.create(year=2028, complete=True)
    calendar.bump_version()
    assert calendar_check_years() == [2027]
    CalendarYear.objects.create(year=2027, complete=True)
    CalendarYear.objects.filter(year=2028).update(complete=False)
    calendar.bump_version()
    assert calendar_check_years() == [2028]
    assert calendar_check_years() == []
    assert sorted(MissingYearNotice.objects.values_list("year", flat=True)) == [2027, 2028]


@time_machine.travel(datetime.datetime(2026, 3, 1, 3, 0, tzinfo=TZ), tick=False)
def test_nothing_is_sent_while_this_year_and_the_next_are_official(administrator):
    CalendarYear.objects.create(year=2027, complete=True)
    calendar.bump_version()
    assert calendar_check_years() == []
    assert not MissingYearNotice.objects.exists() and not OutboxMessage.objects.exists()


def test_the_check_also_recomputes_provisional_deadlines_as_a_safety_net(station_a):
    case = make_provisional_case(station_a)
    CalendarYear.objects.create(year=2027, complete=True)  # written without the admin: no queued recompute
    calendar.bump_version()
    assert workday_tasks.check_calendar_years()["recomputed"] == 1
    case.refresh_from_db()
    assert (case.due_date, case.deadline_provisional) == (D(2027, 1, 4), False)


# --- the reminder for the operators (portal.W001 and the beat job's log line) ---------------------------------


@time_machine.travel(datetime.datetime(2026, 11, 30, 12, 0, tzinfo=TZ), tick=False)
def test_no_reminder_before_december_while_this_year_is_official(settings):
    settings.DEBUG = False
    assert check_calendar_years(databases=["default"]) == []


@time_machine.travel(datetime.datetime(2026, 12, 1, 3, 0, tzinfo=TZ), tick=False)
def test_from_december_the_coming_year_is_a_warning_until_the_table_has_it(settings, caplog):
    settings.DEBUG = False
    (warning,) = check_calendar_years(databases=["default"])
    assert warning.id == "portal.W001" and warning.level == checks.WARNING
    assert "2027" in warning.msg and "load_official_calendar 2027" in warning.hint
    assert check_calendar_years(databases=None) == []  # a bare `check`: not a database check run
    settings.DEBUG = True
    assert check_calendar_years(databases=["default"]) == []
    settings.DEBUG = False

    # The beat job says it in the log every run, besides telling the administrators once.
    with caplog.at_level("WARNING", logger="portal.workdays.services"):
        workday_tasks.check_calendar_years()
        workday_tasks.check_calendar_years()
    reminders = [r for r in caplog.records if "no official holiday table for 2027" in r.getMessage()]
    assert len(reminders) == 2

    CalendarYear.objects.create(year=2027, complete=True)
    calendar.bump_version()
    assert check_calendar_years(databases=["default"]) == []
    caplog.clear()
    with caplog.at_level("WARNING", logger="portal.workdays.services"):
        workday_tasks.check_calendar_years()
    assert not [r for r in caplog.records if "no official holiday table" in r.getMessage()]


@time_machine.travel(datetime.datetime(2027, 3, 1, 3, 0, tzinfo=TZ), tick=False)
def test_a_current_year_without_its_table_is_a_warning_all_year(settings):
    settings.DEBUG = False
    assert [w.msg.split(":")[0] for w in check_calendar_years(databases=["default"])] == [
        "There is no official holiday table for 2027"
    ]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_notice_renders_in_both_languages(language):
    parts = render_message("workdays/missing_year", {"year": 2027, "user": UserFactory.build()}, language)
    assert "2027" in parts["subject.txt"] and "\n" not in parts["subject.txt"]
    assert "2027" in parts["email.txt"] and "/admin/workdays/calendarday/" in parts["email.txt"]
