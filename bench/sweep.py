"""The deadline sweep over every service with all the bench's open cases, beside an indexed SELECT of the due rows.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/sweep.py      # BENCH_SWEEP_RUNS=3

`portal.cases.deadlines.sweep_deadlines(registry.case_models())` — the beat job itself, in this process — over the
bench data of bench/seed.py (no-criminal-record, hukou and family-planning applications and family-planning feedback;
with `cases --count 1000000`, 1 000 000 open cases among 3 100 000 rows), in four states set before each scenario.
The sizes come from the data: N is the number of open bench cases (whatever --count seeded), the due cases are shares
of it or a count.

  N open, 1 % due                    the target: under 1 s at N = 1 000 000 (10 000 due)
  N open, 10 % due                   ten times the due cases
  N × 0.5 open, 1 % due              half the open cases (BENCH_SWEEP_OPEN_FRACTION, default 0.5)
  N × 0.5 open, as many due as the first scenario: the due cases of the first scenario, half the open cases
  N open, BENCH_SWEEP_DUE_COUNT due  only if that is set (run second): a fixed number of due cases, so that runs
                                     over seeds of different sizes have a point with the same due cases (e.g. 10000
                                     over 5 000 000 open against the first scenario over 1 000 000)

BENCH_SWEEP_QUICK=1, for growth runs over large seeds (10 % of 5 000 000 is 500 000 due; parking half of them takes
minutes), times the sweep alone with all open: the first scenario and the fixed-due one only, no notify task after
each run, no cProfile run. The open cases' share in the cost is then read across seeds of different sizes.

"Due" means a running clock with its due date at or before the sweep's horizon (the next working day), half of them
overdue. The baseline, timed in the same run, is a plain SELECT of exactly those rows through the same partial indexes.
The sweep flags the cases with one UPDATE per case model (set-based: chosen through the partial index, locked SKIP
LOCKED, returning each case's acting office) and writes one digest row per office and state in one INSERT; the notify
task that renders and e-mails the digests (deadlines.send_deadline_digests) is timed after it, separately. What is
left of the sweep's time is PostgreSQL's, in those UPDATEs: a new row version for each flagged case. Until issue 17 it
was not HOT, because due_state was in the `*_flagged` indexes (key and predicate): each flag wrote its row version on
another page and an entry in every index of the table (21 on hukou's), with its WAL and full-page images (EXPLAIN
(ANALYZE, BUFFERS, WAL) at 1 %: 4 333 hukou rows, 50 000 WAL records, 98 MB). Now no index holds due_state (the desk
and the queue's deadline filter bound the due date and read `*_office_open_due`) and the case tables have fillfactor
85, so a flag is a HOT update: the new version on the same page, no index entry. On a copy of the 1 000 000-case
bench, 2 shared cores, BENCH_SWEEP_QUICK medians of 5 runs at 1 % due (10 333 of 1 033 333 open; the indexed
SELECT 20-35 ms beside each, 67 ms in the first): before 890 ms (about 1 % of the updates HOT); indexes dropped and fillfactor set but
the pages not rewritten 399 ms (about half HOT: only the room earlier updates left); after VACUUM FULL with
fillfactor 90 398-424 ms (the sweep's own updates 79-94 % HOT), 85 302 ms (93-100 %), 80 246 ms (98-100 %). The
bench's due rows are not spread at random (about 4 per page on no-criminal-record's table: set_due's updates moved
them together), as cases accepted on one day and due on one day are in production; 85 makes nearly all of them HOT
for 5-7 % more heap pages than 90 (80: another 4-6 %). The full run with 85: 313 ms at 1 % (SELECT 27 ms), 1 551 ms at
10 %. The seed's COPY respects the fillfactor (heap inserts leave the room), so a bench seeded after the migrations
needs no rewrite; a copy of a bench seeded before them does (VACUUM FULL of the four case tables). Every run does the
same work: before it,
the flags the previous run set are cleared, its digest and outbox rows deleted and its broker messages purged. One more run under cProfile says where the time goes. Writes the "sweep" section of
bench/results/results.{json,md}.
"""

import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import translation  # noqa: E402

from bench import results, seed  # noqa: E402
from portal import registry  # noqa: E402
from portal.cases import deadlines  # noqa: E402
from portal.cases.models import DeadlineDigest, DueState  # noqa: E402
from portal.notify.models import OutboxMessage  # noqa: E402

RUNS = int(os.environ.get("BENCH_SWEEP_RUNS", "3"))
# The share of the open cases kept open in the last two scenarios (0.2: a fifth, the open cases ×5 between them).
OPEN_FRACTION = float(os.environ.get("BENCH_SWEEP_OPEN_FRACTION", "0.5"))
TARGET_S = 1.0
# A fifth scenario, all open with this many due (none if unset): the same due cases whatever the size of the seed.
DUE_COUNT = int(os.environ.get("BENCH_SWEEP_DUE_COUNT") or 0)
# Growth runs over large seeds: all open, the sweep alone (no 10 % or fewer-open scenarios, no notify task, no cProfile).
QUICK = os.environ.get("BENCH_SWEEP_QUICK", "") not in ("", "0")


def purge_broker():
    from portal.celery import app

    return app.control.purge()


def reset(marker):
    """Undo what a sweep did: its flags, its digests, their outbox rows and the broker messages."""
    outbox_mark, digest_mark = marker
    _today, limit = seed.horizon()
    with connection.cursor() as cursor:
        for model in seed.CASE_MODELS:
            statuses = ", ".join(f"'{s}'" for s in model.OPEN_STATUSES)
            # Through the same partial index the sweep reads: only the due rows are touched.
            cursor.execute(
                f"UPDATE {model._meta.db_table} SET due_state = '' WHERE status IN ({statuses}) "  # noqa: S608
                "AND paused_at IS NULL AND due_date <= %s AND due_state <> ''",
                [limit],
            )
    OutboxMessage.objects.filter(pk__gt=outbox_mark).delete()
    DeadlineDigest.objects.filter(pk__gt=digest_mark).delete()
    purge_broker()


def checkpoint():
    """Every sweep starts as the daily one does, long after the last write to its pages: right after a CHECKPOINT,
    so that each page it changes costs a full-page image in the WAL. Without it, a run soon after the previous run's
    reset (or the scenario's set-up) paid for fewer of them than one after a checkpoint, which made runs of the same
    work differ by up to 2x (the bench's postgres is a superuser, as CHECKPOINT needs)."""
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def due_select(limit):
    """The baseline: the rows the sweep must look at, by a plain SELECT through the partial indexes."""
    rows = 0
    with connection.cursor() as cursor:
        for model in seed.CASE_MODELS:
            statuses = ", ".join(f"'{s}'" for s in model.OPEN_STATUSES)
            cursor.execute(
                f"SELECT id, case_number, status, due_date, due_state, office_id FROM {model._meta.db_table} "  # noqa: S608
                f"WHERE status IN ({statuses}) AND paused_at IS NULL AND due_date <= %s AND due_state <> %s",
                [limit, DueState.OVERDUE],
            )
            rows += len(cursor.fetchall())
    return rows


def explain(limit):
    """The plan of the sweep's own read per model: which index, how many rows, how long."""
    plans = {}
    with connection.cursor() as cursor:
        for model in registry.case_models():
            qs = (
                model.objects.filter(
                    status__in=model.OPEN_STATUSES, paused_at__isnull=True, due_date__isnull=False, due_date__lte=limit
                )
                .exclude(due_state=DueState.OVERDUE)
                .only("pk", "case_number", "status", "due_date", "due_state", "office")
                .order_by()
            )
            sql, params = qs.query.sql_with_params()
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0][0]
            node = plan["Plan"]
            while node.get("Plans") and node["Node Type"] not in ("Index Scan", "Bitmap Heap Scan", "Seq Scan"):
                node = node["Plans"][0]
            plans[model._meta.label] = {
                "node": node["Node Type"],
                "index": node.get("Index Name") or next((p.get("Index Name") for p in node.get("Plans", [])), None),
                "rows": node.get("Actual Rows"),
                "execution_ms": round(plan["Execution Time"], 2),
            }
    return plans


def marker():
    return (
        OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        DeadlineDigest.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    )


class QueryCounter:
    """Counts the queries of a block (connection.execute_wrapper): no log kept, so no limit and no cost."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def run_scenario(label, *, open_keep=None, share=None, count=None):
    """Set the state (open cases, due cases), then time RUNS sweeps, each beside the indexed SELECT."""
    started = time.perf_counter()
    if open_keep is None:
        seed.unpark_open_cases()
    elif not seed.parked():
        seed.set_due(count=0)
        seed.park_open_cases(open_keep)
    due = seed.set_due(share=share, count=count)
    open_total = sum(seed.bench_cases(m).filter(status__in=m.OPEN_STATUSES).count() for m in seed.CASE_MODELS)
    _today, limit = seed.horizon()
    # What the sweep must flag: the bench cases made due, and any other case whose clock ran out meanwhile.
    due_total = due_select(limit)
    assert due_total >= sum(due.values()), (due_total, due)
    mark = marker()
    setup_s = time.perf_counter() - started
    sweep_s, select_s, digest_s, queries, messages = [], [], [], 0, 0
    for run in range(RUNS):
        t0 = time.perf_counter()
        rows = due_select(limit)
        select_s.append(time.perf_counter() - t0)
        assert rows == due_total, (rows, due_total)
        counter = QueryCounter()
        checkpoint()
        with connection.execute_wrapper(counter):
            t0 = time.perf_counter()
            counts = deadlines.sweep_deadlines(registry.case_models())
            sweep_s.append(time.perf_counter() - t0)
        assert sum(counts.values()) == due_total, (counts, due_total)
        if not QUICK:
            t0 = time.perf_counter()
            deadlines.send_deadline_digests()  # the notify task, here in this process
            digest_s.append(time.perf_counter() - t0)
        if run == 0:
            queries, messages = counter.count, OutboxMessage.objects.filter(pk__gt=mark[0]).count()
        reset(mark)
    plans = explain(limit)
    print(
        f"{label}: sweep {results.median(sweep_s) * 1000:.0f} ms, select {results.median(select_s) * 1000:.1f} ms, "
        f"digests (notify task) {results.median(digest_s or [float('nan')]) * 1000:.0f} ms, "
        f"{open_total} open, {due_total} due, {messages} messages, {queries} queries "
        f"(set-up {setup_s:.0f} s, all {time.perf_counter() - started:.0f} s)"
    )
    return {
        "label": label,
        "open": open_total,
        "due": due_total,
        "due_per_model": {m._meta.label: n for m, n in due.items()},
        "flagged": counts,
        "sweep_s": sweep_s,
        "select_s": select_s,
        "digest_s": digest_s,
        "messages": messages,
        "queries": queries,
        "plans": plans,
    }


def profile_once():
    """One sweep at 1 % under cProfile, then its notify task: where the time goes."""
    mark = marker()
    profiler = cProfile.Profile()
    profiler.enable()
    deadlines.sweep_deadlines(registry.case_models())
    deadlines.send_deadline_digests()
    profiler.disable()
    reset(mark)
    stats = pstats.Stats(profiler)
    total = max(stats.total_tt, 1e-9)

    def cumulative(file_part, function):
        return sum(
            value[3]
            for (filename, _line, name), value in stats.stats.items()
            if file_part in filename and name == function
        )

    parts = {
        "total_s": total,
        "sweep_s": cumulative("portal/cases/deadlines.py", "sweep_deadlines"),
        "claim_s": cumulative("portal/cases/deadlines.py", "_flag"),
        "digest_task_s": cumulative("portal/cases/deadlines.py", "send_deadline_digests"),
        "notify_office_s": cumulative("accounts/notify.py", "notify_office"),
        "render_message_s": cumulative("portal/notify/services.py", "render_message"),
        "outbox_insert_s": cumulative("django/db/models/query.py", "create"),
        "broker_publish_s": cumulative("celery/app/task.py", "apply_async"),
        "sql_s": cumulative("django/db/backends/utils.py", "_execute"),
    }
    return {key: round(value, 3) for key, value in parts.items()}


def main():
    from django.conf import settings

    assert connection.vendor == "postgresql", "benchmarks run on PostgreSQL (set DATABASE_URL)"
    assert settings.CELERY_BROKER_URL.startswith("redis"), "the sweep publishes to the broker: set REDIS_URL"
    if not seed.Layout().complete:
        sys.exit("no bench data: run bench/seed.py cases --ensure first")
    purge_broker()
    seed.unpark_open_cases()
    layout = seed.Layout()
    with translation.override("en"):  # the results are written in English
        open_by_model = {
            str(m._meta.verbose_name_plural): seed.bench_cases(m).filter(status__in=m.OPEN_STATUSES).count()
            for m in seed.CASE_MODELS
        }
    rows_total = sum(seed.bench_cases(m).count() for m in seed.CASE_MODELS)
    scenarios = []
    try:
        first = run_scenario("all open, 1 % due", share=0.01)
        scenarios.append(first)
        profile = None if QUICK else profile_once()
        if DUE_COUNT:
            scenarios.append(run_scenario(f"all open, {DUE_COUNT:,} due", count=DUE_COUNT))
        ten = None if QUICK else run_scenario("all open, 10 % due", share=0.10)
        scenarios += [ten] if ten else []
        part = round(first["open"] * OPEN_FRACTION)
        half_same = None
        if not QUICK:
            scenarios.append(run_scenario(f"{OPEN_FRACTION:g} of them open, 1 % due", open_keep=part, share=0.01))
            half_same = run_scenario(
                f"{OPEN_FRACTION:g} of them open, as many due as with all open at 1 %",
                open_keep=part,
                count=first["due"],
            )
            scenarios.append(half_same)
    finally:
        seed.unpark_open_cases()
        seed.set_due(share=0.01)
    figures = []
    for s in scenarios:
        sweep_ms = results.median(s["sweep_s"]) * 1000
        select_ms = results.median(s["select_s"]) * 1000
        digest_ms = results.median(s["digest_s"] or [float("nan")]) * 1000
        target = s is first
        figures.append(
            results.figure(
                f"sweep, {s['open']:,} open, {s['due']:,} due ({s['queries']:,} queries; then the notify task: "
                f"{s['messages']:,} digest e-mails in {digest_ms:,.0f} ms)",
                sweep_ms,
                "ms",
                runs=RUNS,
                baseline=select_ms,
                baseline_name="indexed SELECT of the due rows",
                target="< 1000 ms" if target else "",
                met=sweep_ms < TARGET_S * 1000 if target else None,
                us_per_due_case=round(sweep_ms * 1000 / max(s["due"], 1), 1),
            )
        )

    def ms(s):
        return results.median(s["sweep_s"]) * 1000

    if ten:
        figures.append(
            results.figure(
                "time at 10 % due ÷ time at 1 % due (due cases ×10)",
                ms(ten) / ms(first),
                "×",
                runs=RUNS,
                ratio=ms(ten) / ms(first),
                target="grows with the due cases (≤ 10×)",
                met=ms(ten) / ms(first) <= 10,
            )
        )
    if half_same:
        figures.append(
            results.figure(
                f"time at {first['open']:,} open ÷ time at {half_same['open']:,} open, same {first['due']:,} due",
                ms(first) / ms(half_same),
                "×",
                runs=RUNS,
                ratio=ms(first) / ms(half_same),
                target="≈ 1× (not the open cases)",
                met=0.75 <= ms(first) / ms(half_same) <= 1.33,
            )
        )
    notes = [
        "Open cases: "
        + ", ".join(f"{n:,} {label}" for label, n in open_by_model.items())
        + f" among {rows_total:,} rows, over {len(layout.stations) + len(layout.family_planning)} stations and "
        f"family-planning offices and {len(layout.household_admin_of_city)} household administrations "
        f"({seed.STAFF_PER_OFFICE} staff each) with a supervisor per city.",
        "The sweep flags each due case once and writes one digest row per office and state in the same transaction; "
        "the notify task (published on commit, and re-run by beat) renders each digest for its recipients (overdue "
        "ones also to the supervisors) into the outbox and marks it sent. The sweep's figure is the beat job; the "
        "notify task's time is given beside it and is not part of it.",
    ]
    if profile:
        notes.append(
            "Where the time goes at 1 % (one more run under cProfile, whose overhead inflates every part): "
            f"{profile['total_s']} s in all: the sweep {profile['sweep_s']} s (of which the flagging UPDATEs "
            f"{profile['claim_s']} s), the notify task {profile['digest_task_s']} s (rendering "
            f"{profile['render_message_s']} s, outbox INSERTs {profile['outbox_insert_s']} s, broker publishing "
            f"{profile['broker_publish_s']} s)."
        )
    else:
        notes.append("BENCH_SWEEP_QUICK: all open, the sweep alone (no notify task, no cProfile run).")
    results.record(
        "sweep",
        f"Deadline sweep (3): {first['open']:,} open cases over all services",
        figures,
        notes,
        details={"scenarios": scenarios, "profile_1pct": profile},
    )
    print(results.markdown(results.load()).split("## Deadline sweep")[1].split("\n## ")[0])


if __name__ == "__main__":
    main()
