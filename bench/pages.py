"""Admin queues with 1 000 000 rows each, and the citizen pages, rendered in-process: time and queries.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/pages.py     # BENCH_PAGE_RUNS=9

Each page is requested through Django's full middleware stack (django.test.Client, production settings with DEBUG
off, the second factor off for staff) by the user who sees it in real life, over the bench data of bench/seed.py:

- the main admin queue of each service (no-criminal-record applications, hukou migration applications, family-planning
  applications; 1 000 000 rows each, over 558 bench offices) for a police-station officer, a municipal household
  administrator and a family-planning officer, as it opens and with the overdue filter; and for a city supervisor
  (every office below the city, some 30 of them) as it opens;
- the desk (the admin index: every service's counts in one query, portal.cases.desk) of a station officer and of a
  city supervisor;
- /me/ of a citizen with 50 cases across the services (and of one with 5, to compare the queries), a
  no-criminal-record status page, and the home page.

Every desk and queue page, a city supervisor's too, has the target of ADMIN_TARGET_MS. What keeps them there
(docs/architecture.md#the-officers-desk): the desk counts each column with its own indexed COUNT (the office in the
index; due soon and overdue as a due-date range of `*_office_open_due`, as no index holds due_state so that the
sweep's flags are HOT updates) rather than aggregating every case in scope; a queue in due-date
order is read from an index in that order (`*_office_open_due` for one office, `*_open_by_due` for a supervisor's
many), so LIMIT stops after the first page; hukou's office acting now is a generated column (`acting_office_id`), its
queue's COUNT read from one index (`hk_app_acting_status`); and JIT compilation is off on the portal's connections.

Each figure is the median of BENCH_PAGE_RUNS requests after two warm-up requests, beside a minimal Django view
served the same way to the same user in the same run. The queries of one request are captured: their number, their
time, and every COUNT among them is run again under EXPLAIN ANALYZE to show how many rows it counted — a full-table
COUNT would count the whole million. Writes the "admin" and "citizen" sections of bench/results/results.{json,md}.
"""

import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import Office, Role, User  # noqa: E402
from bench import results, seed  # noqa: E402
from bench import sweep as sweep_bench  # noqa: E402
from certificates.models import Application  # noqa: E402
from familyplanning.models import FamilyPlanningApplication  # noqa: E402
from hukou.models import MigrationApplication  # noqa: E402
from portal import registry  # noqa: E402
from portal.cases import deadlines  # noqa: E402

RUNS = int(os.environ.get("BENCH_PAGE_RUNS", "9"))
WARMUP = 2
ADMIN_TARGET_MS = 300
COUNT_RE = re.compile(r"^\s*SELECT\s+COUNT\(", re.IGNORECASE)


def client_for(user):
    client = Client(HTTP_HOST="localhost")
    if user is not None:
        client.force_login(user)
    return client


def timed_get(client, url):
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, response


def counted_rows(sql):
    """How many rows a captured COUNT query counts (EXPLAIN ANALYZE of the very SQL that ran)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0][0]["Plan"]
    node = plan
    # Down through the aggregation (and the parallel workers' gather) to the rows that were counted.
    while node.get("Plans") and node["Node Type"] in ("Aggregate", "Gather", "Gather Merge", "Limit", "Result"):
        node = node["Plans"][0]
    return round(node.get("Actual Rows", 0) * node.get("Actual Loops", 1))


def measure(user, url, *, baseline_client):
    client = client_for(user)
    for _ in range(WARMUP):
        timed_get(client, url)
        timed_get(baseline_client, "/bench/minimal/")
    times, base = [], []
    for _ in range(RUNS):  # interleaved with the baseline, so both see the same machine
        times.append(timed_get(client, url)[0])
        base.append(timed_get(baseline_client, "/bench/minimal/")[0])
    with CaptureQueriesContext(connection) as captured:
        _elapsed, response = timed_get(client, url)
    queries = captured.captured_queries
    counts = [q["sql"] for q in queries if COUNT_RE.match(q["sql"])]
    return {
        "url": url,
        "ms": times,
        "baseline_ms": base,
        "queries": len(queries),
        "sql_ms": round(sum(float(q["time"]) for q in queries) * 1000, 2),
        "count_queries": len(counts),
        "rows_counted": [counted_rows(sql) for sql in counts],
        "bytes": len(response.content),
    }


def first_staff(office_kind, role, **filters):
    return (
        User.objects.filter(
            username__startswith=seed.USER_PREFIX,
            is_staff=True,
            office__kind=office_kind,
            groups__name=role,
            **filters,
        )
        .select_related("office")
        .order_by("pk")
        .first()
    )


def main():
    assert connection.vendor == "postgresql", "benchmarks run on PostgreSQL (set DATABASE_URL)"
    if not seed.Layout().complete:
        sys.exit("no bench data: run bench/seed.py cases --ensure first")
    station_officer = first_staff(Office.Kind.POLICE_STATION, Role.POLICE_OFFICER)
    household_admin = first_staff(Office.Kind.HOUSEHOLD_ADMIN, Role.HOUSEHOLD_ADMIN)
    fp_officer = first_staff(Office.Kind.FAMILY_PLANNING, Role.FAMILY_PLANNING_OFFICER)
    supervisor = first_staff(Office.Kind.CITY, Role.SUPERVISOR)
    citizen = User.objects.get(username=seed.CITIZEN_USERNAME)
    few = User.objects.get(username=seed.CITIZEN_FEW_USERNAME)
    # The queues as an office finds them in the morning: the deadline sweep has flagged the due cases (1 % of the
    # open ones after bench/seed.py); its flags and digests are undone at the end.
    mark = sweep_bench.marker()
    flagged = deadlines.sweep_deadlines(registry.case_models())
    try:
        run_pages(station_officer, household_admin, fp_officer, supervisor, citizen, few, flagged)
    finally:
        sweep_bench.reset(mark)


def run_pages(station_officer, household_admin, fp_officer, supervisor, citizen, few, flagged):
    table_rows = {
        model: seed.bench_cases(model).count()
        for model in (Application, MigrationApplication, FamilyPlanningApplication)
    }
    ncr = "/admin/certificates/application/"
    hk = "/admin/hukou/migrationapplication/"
    fp = "/admin/familyplanning/familyplanningapplication/"
    admin_pages = [
        (Application, "no-criminal-record queue, station officer", station_officer, ncr),
        (
            Application,
            "no-criminal-record queue, station officer, overdue filter",
            station_officer,
            ncr + "?due=overdue",
        ),
        (
            Application,
            "no-criminal-record queue, station officer, all cases (newest first)",
            station_officer,
            ncr + "?inbox=all",
        ),
        (Application, "no-criminal-record queue, city supervisor", supervisor, ncr),
        # The desk (the admin index): every service's counts in one UNION ALL (portal.cases.desk).
        (Application, "desk, station officer", station_officer, "/admin/"),
        (Application, "desk, city supervisor", supervisor, "/admin/"),
        (MigrationApplication, "hukou queue, station officer", station_officer, hk),
        (MigrationApplication, "hukou queue, station officer, acting now", station_officer, hk + "?inbox=acting"),
        (MigrationApplication, "hukou queue, municipal household administrator", household_admin, hk),
        (MigrationApplication, "hukou queue, household administrator, overdue", household_admin, hk + "?due=overdue"),
        (MigrationApplication, "hukou queue, city supervisor", supervisor, hk),
        (FamilyPlanningApplication, "family-planning queue, family-planning officer", fp_officer, fp),
        (FamilyPlanningApplication, "family-planning queue, officer, overdue filter", fp_officer, fp + "?due=overdue"),
    ]
    figures, details = [], []
    for model, label, user, url in admin_pages:
        baseline_client = client_for(user)
        m = measure(user, url, baseline_client=baseline_client)
        ms, base = statistics.median(m["ms"]), statistics.median(m["baseline_ms"])
        full_count = any(rows >= table_rows[model] for rows in m["rows_counted"])
        model_admin = admin.site._registry[model]
        no_full_count = not full_count and model_admin.show_full_result_count is False
        # Every desk and queue page has the time target, a city supervisor's (some 30 offices) too.
        ok = ms < ADMIN_TARGET_MS and no_full_count
        counted = max(m["rows_counted"], default=0)
        figures.append(
            results.figure(
                f"{label}: {m['queries']} queries, largest COUNT {counted:,} of {table_rows[model]:,} rows",
                ms,
                "ms",
                runs=RUNS,
                baseline=base,
                baseline_name="minimal Django view, same user",
                target=f"< {ADMIN_TARGET_MS} ms, no full-table COUNT",
                met=ok,
                queries=m["queries"],
                sql_ms=m["sql_ms"],
                rows_counted=m["rows_counted"],
            )
        )
        details.append({"label": label, "user": user.username, "office": str(user.office), **m})
        print(f"{label}: {ms:.0f} ms ({m['queries']} queries, {m['sql_ms']} ms SQL, COUNTs {m['rows_counted']})")
    results.record(
        "admin",
        f"Admin queues (4): {table_rows[Application]:,} rows in each service's main queue",
        figures,
        [
            f"Rows per queue ({table_rows[Application]:,}) spread over 360 police stations (hukou: move-in, "
            "municipal and move-out offices), 18 household administrations and 90 family-planning offices; the "
            "'largest COUNT' is the size of the slice each user sees.",
            "Every queue has show_full_result_count = False; the paginator's COUNT is over the staff member's own "
            "scope and filter, never the table (the 'largest COUNT' column: rows counted, from EXPLAIN ANALYZE).",
            "Django test client in-process: the full middleware stack and templates, no network, no gunicorn.",
            f"Measured after a deadline sweep flagged {flagged['due_soon']:,} cases due soon and "
            f"{flagged['overdue']:,} overdue (the overdue filter's rows).",
        ],
        details={"pages": details},
    )

    ncr_open = Application.objects.filter(applicant=citizen, status="accepted").order_by("pk").first()
    citizen_pages = [
        ("/me/, citizen with 50 cases across the services", citizen, "/me/"),
        ("/me/, citizen with 5 cases", few, "/me/"),
        ("no-criminal-record status page", citizen, f"/certificates/{ncr_open.case_number}/"),
        ("home page, anonymous", None, "/"),
        ("home page, signed in", citizen, "/"),
    ]
    figures, details = [], []
    measured = {}
    for label, user, url in citizen_pages:
        m = measure(user, url, baseline_client=client_for(user))
        measured[label] = m
        ms, base = statistics.median(m["ms"]), statistics.median(m["baseline_ms"])
        figures.append(
            results.figure(
                f"{label}: {m['queries']} queries",
                ms,
                "ms",
                runs=RUNS,
                baseline=base,
                baseline_name="minimal Django view, same user",
                queries=m["queries"],
                sql_ms=m["sql_ms"],
            )
        )
        details.append({"label": label, **m})
        print(f"{label}: {ms:.0f} ms ({m['queries']} queries, {m['sql_ms']} ms SQL)")
    many, some = (
        measured["/me/, citizen with 50 cases across the services"]["queries"],
        measured["/me/, citizen with 5 cases"]["queries"],
    )
    figures.append(
        results.figure(
            "/me/ queries with 50 cases",
            many,
            "queries",
            runs=1,
            baseline=some,
            baseline_name="/me/ queries with 5 cases",
            target="the same: no query per case",
            met=many == some,
        )
    )
    results.record(
        "citizen",
        "Citizen pages (5): /me/ with 50 cases, a status page, the home page",
        figures,
        ["The citizen pages have no time target; the query count must not grow with the cases."],
        details={"pages": details},
    )


if __name__ == "__main__":
    main()
