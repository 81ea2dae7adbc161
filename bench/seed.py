"""Create (or remove) the million-row benchmark data sets in PostgreSQL, fast, with COPY.

    DATABASE_URL=postgres://… .venv/bin/python bench/seed.py certificates --count 1000000 --ensure
    DATABASE_URL=postgres://… .venv/bin/python bench/seed.py cases --count 1000000 --ensure
    DATABASE_URL=postgres://… .venv/bin/python bench/seed.py cases --due-share 0.10
    DATABASE_URL=postgres://… .venv/bin/python bench/seed.py all --remove

`certificates`: issued documents for public verification (kind "bench"); a sample of the codes is written to
bench/results/verify_codes.txt for the load generator.

`cases`: an office tree below the 18 cities (counties, police stations, household administrations, family-planning
offices) with their staff and city supervisors, 100 000 citizens, and --count rows in each service's main admin queue
(no-criminal-record applications, hukou migration applications, family-planning applications) plus feedback cases
(portal.feedback). Of all these, --count cases are open (a working-day clock may run; the deadline sweep reads them), spread
over the services, and --due-share of the open ones are due (at or before the sweep's horizon; 1 % after --ensure).
Plus a citizen (`bench-citizen`) with 50 cases across the services for the citizen pages, and one with 5
(`bench-citizen-few`) to compare. The rows are written oldest first, so ids grow with time as in production.

Everything is marked so that --remove deletes exactly it: case numbers `<PREFIX>-BENCH-NNNNNNN` (and the cases of the
two bench citizens), user names `bench-…`, offices whose English name starts with "Bench ", issued documents of kind
"bench". --ensure adds only what is missing (a case table whose bench row or open-row count differs from the target
is reseeded), so `make bench` seeds once; about 1 000 000 rows a minute on these 2 cores.

--grow (with --ensure) reaches a larger --count from a smaller one already seeded, in SQL (INSERT … SELECT), without
generating the rows in Python again, e.g. 5 000 000 from 1 000 000 (or from a copy of the 1 000 000 database,
CREATE DATABASE … TEMPLATE):

    DATABASE_URL=postgres://… .venv/bin/python bench/seed.py certificates --count 5000000 --ensure --grow
    DATABASE_URL=postgres://… .venv/bin/python bench/seed.py cases --count 5000000 --ensure --grow

Certificates are copies of those present with new random codes and sources. A case table holding a whole fraction
of its target (the same share open) gets whole copies with new case numbers, the rest as the originals (state,
clock, office, applicant, times: a copy's ids no longer grow with its times); any other table is seeded afresh. The
copies name the rows their originals name, so their foreign keys are not checked again (session_replication_role,
which needs a superuser, as the bench's postgres is).
"""

import argparse
import contextlib
import datetime
import io
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Office, Role, User  # noqa: E402
from certificates.models import Application  # noqa: E402
from certificates.models import Status as NcrStatus  # noqa: E402
from familyplanning import catalogue  # noqa: E402
from familyplanning.models import FamilyPlanningApplication  # noqa: E402
from familyplanning.models import Status as FpStatus  # noqa: E402
from hukou.constants import CLOCK_LIMITS, Category  # noqa: E402
from hukou.constants import Status as HkStatus  # noqa: E402
from hukou.models import MigrationApplication  # noqa: E402
from portal.cases.models import Transition  # noqa: E402
from portal.feedback.models import Feedback, FeedbackKind, FeedbackStatus  # noqa: E402
from portal.verify.codes import ALPHABET, format_code  # noqa: E402
from portal.verify.models import IssuedDocument  # noqa: E402
from portal.workdays import calendar as workdays  # noqa: E402

BENCH_KIND = "bench"
RESULTS = ROOT / "bench" / "results"
CASE_MARK = "-BENCH-"
OFFICE_MARK = "Bench "
USER_PREFIX = "bench-"
CITIZEN_USERNAME = "bench-citizen"
CITIZENS = 100_000
COUNTIES_PER_CITY = 5
STATIONS_PER_COUNTY = 4
STAFF_PER_OFFICE = 2
# How the open cases are shared among the case models (the sweep reads all four).
OPEN_SHARE = {Application: 0.30, MigrationApplication: 0.40, FamilyPlanningApplication: 0.25, Feedback: 0.05}
FEEDBACK_ROWS_PER_OPEN = 2  # feedback is no main queue: twice its open share, half of it answered
CASE_MODELS = (Application, MigrationApplication, FamilyPlanningApplication, Feedback)
NAMES = ("张三", "李四", "王小明", "赵敏", "陈静", "欧阳娜娜", "刘洋", "杨帆", "黄磊", "周婷")


class RowStream(io.RawIOBase):
    """A file-like object that produces COPY text rows on demand, so a million rows never sit in memory.

    The buffer is a bytearray: appending a row and dropping what was read are amortised O(1). With bytes, each row
    appended copied the whole buffer (up to the reader's 1 MiB), which made the seed spend most of its time there.
    """

    def __init__(self, rows):
        self._rows = rows
        self._buffer = bytearray()

    def readable(self):
        return True

    def readinto(self, target):
        while len(self._buffer) < len(target):
            try:
                self._buffer += next(self._rows)
            except StopIteration:
                break
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        del self._buffer[:n]
        return n


def copy_value(value):
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def written_fields(model):
    # Not a generated column (hukou's acting_office_id): the database computes it, COPY may not name it.
    return [f for f in model._meta.concrete_fields if not f.primary_key and not getattr(f, "generated", False)]


def copy_model_rows(model, rows) -> float:
    """COPY `rows` (dicts of column -> value) into the model's table; unnamed columns get the field's default.

    Returns the seconds taken. One COPY is one statement, so a failure leaves nothing behind.
    """
    fields = written_fields(model)
    columns = [f.column for f in fields]
    position = {column: i for i, column in enumerate(columns)}
    template = []
    for field in fields:
        if field.has_default():
            template.append(copy_value(field.get_default()))
        elif field.null:
            template.append("\\N")
        else:
            template.append("")

    def encoded():
        for values in rows:
            row = template.copy()
            for column, value in values.items():
                row[position[column]] = copy_value(value)
            yield ("\t".join(row) + "\n").encode()

    started = time.perf_counter()
    stream = io.BufferedReader(RowStream(encoded()), buffer_size=1 << 20)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN", stream)
    return time.perf_counter() - started


def spread(count, total):
    """For n in range(total): whether n is one of `count` rows spread evenly (exactly `count` of them)."""
    for n in range(total):
        yield (n + 1) * count // total != n * count // total


# --- issued certificates (public verification) ------------------------------------------------------------------


def certificate_rows(count, *, office_ids, source_type_id, start_source_id, sample, rng):
    now = timezone.now()
    for i in range(count):
        code = format_code("".join(rng.choice(ALPHABET) for _ in range(20)))
        if i % max(1, count // 10000) == 0:
            sample.append(code)
        issued = now - datetime.timedelta(days=rng.randrange(0, 700))
        revoked = rng.random() < 0.02
        yield {
            "code": code,
            "kind": BENCH_KIND,
            "title": "无犯罪记录证明",
            "title_en": "Certificate of No Criminal Record",
            "source_type_id": source_type_id,
            "source_id": start_source_id + i,
            "generation": 1,
            "holder_id": None,
            "holder_name": rng.choice(NAMES),
            "issuing_office_id": rng.choice(office_ids),
            "issued_at": issued,
            "valid_until": (issued + datetime.timedelta(days=90)).date(),
            "status": "revoked" if revoked else "valid",
            "revoked_at": issued + datetime.timedelta(days=3) if revoked else None,
        }


def seed_certificates(count):
    assert connection.vendor == "postgresql", "benchmarks run on PostgreSQL (set DATABASE_URL)"
    rng = random.Random(20261124)  # noqa: S311 - synthetic data
    office_ids = list(Office.objects.values_list("pk", flat=True))
    source_type = ContentType.objects.get_for_model(Office)  # any model: the source is not followed here
    last = (
        IssuedDocument.objects.filter(kind=BENCH_KIND)
        .order_by("-source_id")
        .values_list("source_id", flat=True)
        .first()
    )
    sample = []
    rows = certificate_rows(
        count,
        office_ids=office_ids,
        source_type_id=source_type.pk,
        start_source_id=(last or 0) + 1,
        sample=sample,
        rng=rng,
    )
    elapsed = copy_model_rows(IssuedDocument, rows)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {IssuedDocument._meta.db_table}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "verify_codes.txt").write_text("\n".join(sample) + "\n")
    print(f"seeded {count} certificates in {elapsed:.1f} s ({count / elapsed:,.0f} rows/s)")


def remove_certificates():
    from portal.verify.models import VerificationLog

    table, logs = IssuedDocument._meta.db_table, VerificationLog._meta.db_table
    with connection.cursor() as cursor:  # raw SQL: the ORM would load a million rows to cascade
        # Table names come from the models, never from input.
        cursor.execute(
            f"DELETE FROM {logs} WHERE document_id IN (SELECT id FROM {table} WHERE kind = %s)",  # noqa: S608
            [BENCH_KIND],
        )
        cursor.execute(f"DELETE FROM {table} WHERE kind = %s", [BENCH_KIND])  # noqa: S608
        print(f"removed {cursor.rowcount} benchmark certificates")


def ensure_certificates(count, *, grow=False):
    present = IssuedDocument.objects.filter(kind=BENCH_KIND).count()
    missing = count - present
    if missing > 0 and grow and present:
        grow_certificates(missing)
    elif missing > 0:
        seed_certificates(missing)
    else:
        write_sample()


def grow_certificates(missing):
    """Add `missing` bench certificates in SQL: copies of those present, each with a new random code and source."""
    table = IssuedDocument._meta.db_table
    columns = [f.column for f in written_fields(IssuedDocument)]
    values = {column: f"d.{column}" for column in columns}
    # 20 characters of the code alphabet from 15 random bytes (base64, each of its 64 symbols read as one of the 32),
    # in groups of four as format_code writes them.
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    raw = f"translate(left(encode(decode(md5(random()::text || d.id || '-' || k), 'hex'), 'base64'), 20), '{b64}', "
    raw += f"'{ALPHABET * 2}')"
    values["code"] = " || '-' || ".join(f"substr({raw}, {i}, 4)" for i in range(1, 21, 4)).replace(raw, "r.raw")
    values["source_id"] = "d.source_id + k * m.top"
    started = time.perf_counter()
    with plain_indexes_dropped(IssuedDocument), connection.cursor() as cursor:
        # The copies name the offices and users their originals name: no need to check each foreign key again.
        cursor.execute("SET LOCAL session_replication_role = replica")
        # Table and column names come from the model, never from input.
        cursor.execute(
            f"""
            INSERT INTO {table} ({", ".join(columns)})
            SELECT {", ".join(values[c] for c in columns)}
            FROM (SELECT count(*) AS n, max(source_id) AS top FROM {table} WHERE kind = %(kind)s) m
            CROSS JOIN generate_series(1, (%(missing)s + m.n - 1) / m.n) k
            JOIN {table} d ON d.kind = %(kind)s
            CROSS JOIN LATERAL (SELECT {raw} AS raw) r
            LIMIT %(missing)s
            """,  # noqa: S608
            {"kind": BENCH_KIND, "missing": missing},
        )
    elapsed = time.perf_counter() - started
    print(f"grew the benchmark certificates by {missing} copies in {elapsed:.1f} s ({missing / elapsed:,.0f} rows/s)")
    write_sample()


def write_sample(size=10000):
    codes = IssuedDocument.objects.filter(kind=BENCH_KIND).order_by("?").values_list("code", flat=True)[:size]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "verify_codes.txt").write_text("\n".join(codes) + "\n")
    print(f"benchmark certificates present; sampled {size} codes")


# --- offices, staff and citizens ------------------------------------------------------------------------------------


class Layout:
    """The bench office tree as ids: what the case rows are spread over."""

    def __init__(self):
        offices = list(Office.objects.filter(name_en__startswith=OFFICE_MARK).values("pk", "kind", "path", "parent_id"))
        city_of = {}
        cities = {o.pk: o for o in Office.objects.filter(kind=Office.Kind.CITY)}
        for office in offices:
            ids = [int(p) for p in office["path"].strip("/").split("/")]
            # A police office's city bureau; a health office has none (its tree is the health commission's).
            city_of[office["pk"]] = next((i for i in ids if i in cities), None)
        self.stations = [o["pk"] for o in offices if o["kind"] == Office.Kind.POLICE_STATION]
        self.family_planning = [o["pk"] for o in offices if o["kind"] == Office.Kind.FAMILY_PLANNING]
        self.household_admin_of_city = {
            city_of[o["pk"]]: o["pk"] for o in offices if o["kind"] == Office.Kind.HOUSEHOLD_ADMIN
        }
        self.city_of = city_of
        self.stations_of_city = {}
        for pk in self.stations:
            self.stations_of_city.setdefault(city_of[pk], []).append(pk)
        self.citizens = list(
            User.objects.filter(username__startswith=f"{USER_PREFIX}c-").order_by("pk").values_list("pk", flat=True)
        )

    @property
    def complete(self):
        expected_stations = len(self.household_admin_of_city) * COUNTIES_PER_CITY * STATIONS_PER_COUNTY
        return bool(self.stations) and len(self.stations) == expected_stations and len(self.citizens) == CITIZENS


def staff_username(office, role, i):
    return f"{USER_PREFIX}{role.replace('_', '')}-{office.pk}-{i}"


@transaction.atomic
def create_offices_and_staff():
    """Counties, stations, household administrations and family-planning offices below every city, with staff.

    Offices are found again by their English name: a removal keeps those that bench certificates still name.
    """
    groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
    existing = set(User.objects.filter(username__startswith=USER_PREFIX).values_list("username", flat=True))
    staff = []

    def bench_office(name_en, **fields):
        found = Office.objects.filter(name_en=name_en).first()
        if found is None:
            found = Office(name_en=name_en, **fields)
            found.save()
        return found

    def add_staff(office, role, count):
        for i in range(count):
            if staff_username(office, role, i) in existing:
                continue
            staff.append(
                (
                    User(
                        username=staff_username(office, role, i),
                        real_name=f"{NAMES[(office.pk + i) % len(NAMES)]}警官",
                        email=f"{staff_username(office, role, i)}@bench.invalid",
                        password="!bench",  # noqa: S106 - an unusable password: the bench signs in with force_login
                        office=office,
                        is_staff=True,
                    ),
                    role,
                )
            )

    commissions = {o.division_code: o for o in Office.objects.filter(kind=Office.Kind.CITY_HEALTH_COMMISSION)}
    for city in Office.objects.filter(kind=Office.Kind.CITY).order_by("division_code"):
        code = city.division_code
        add_staff(commissions[code], Role.SUPERVISOR, 1)
        admin_office = bench_office(
            f"{OFFICE_MARK}household administration {code}",
            name=f"{city.name}户政管理处(基准)",
            kind=Office.Kind.HOUSEHOLD_ADMIN,
            division_code=code,
            parent=city,
        )
        add_staff(admin_office, Role.HOUSEHOLD_ADMIN, STAFF_PER_OFFICE)
        add_staff(city, Role.SUPERVISOR, 1)
        for c in range(COUNTIES_PER_CITY):
            county_code = f"{code[:4]}{c + 2:02d}"
            county = bench_office(
                f"{OFFICE_MARK}county {county_code}",
                name=f"{city.name}第{c + 1}分局(基准)",
                kind=Office.Kind.COUNTY,
                division_code=county_code,
                parent=city,
            )
            fp = bench_office(
                f"{OFFICE_MARK}health commission {county_code}",
                name=f"{city.name}第{c + 1}区卫生健康委员会(基准)",
                kind=Office.Kind.FAMILY_PLANNING,
                division_code=county_code,
                parent=commissions[code],  # the district commission is the city's health commission's, not police
            )
            add_staff(fp, Role.FAMILY_PLANNING_OFFICER, STAFF_PER_OFFICE)
            for s in range(STATIONS_PER_COUNTY):
                station = bench_office(
                    f"{OFFICE_MARK}police station {county_code}-{s + 1}",
                    name=f"{city.name}第{c + 1}分局第{s + 1}派出所(基准)",
                    kind=Office.Kind.POLICE_STATION,
                    division_code=county_code,
                    parent=county,
                    accepts_paper_collection=True,
                )
                add_staff(station, Role.POLICE_OFFICER, STAFF_PER_OFFICE)
    User.objects.bulk_create([user for user, _ in staff], batch_size=1000)
    created = {u.username: u.pk for u in User.objects.filter(username__startswith=USER_PREFIX, is_staff=True)}
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=created[user.username], group_id=groups[role].pk) for user, role in staff],
        batch_size=1000,
    )
    print(f"created {Office.objects.filter(name_en__startswith=OFFICE_MARK).count()} offices and {len(staff)} staff")


def seed_citizens():
    now = timezone.now()
    rows = (
        {
            "username": f"{USER_PREFIX}c-{n:06d}",
            "real_name": NAMES[n % len(NAMES)],
            "email": f"{USER_PREFIX}c-{n:06d}@bench.invalid",
            "password": "!bench",
            "is_active": True,
            "date_joined": now,
            "email_confirmed_at": now,
            "mobile_confirmed_at": now,
            "mobile": f"+86139{n:08d}",
        }
        for n in range(CITIZENS)
    )
    elapsed = copy_model_rows(User, rows)
    print(f"seeded {CITIZENS} citizens in {elapsed:.1f} s")


# --- the case tables ------------------------------------------------------------------------------------------------


def case_number(model, n):
    return f"{model.CASE_PREFIX}{CASE_MARK}{n:07d}"


def open_counts(open_total):
    counts = {model: round(open_total * share) for model, share in OPEN_SHARE.items()}
    counts[Application] += open_total - sum(counts.values())
    return counts


def case_rows(model, *, total, open_count, layout, rng):
    """Rows of one case table: `open_count` of `total` in an open state, spread evenly; oldest first."""
    now = timezone.now()
    today = timezone.localdate()
    span = datetime.timedelta(days=730)
    row_for = ROWS[model]
    opened = closed = 0
    for n, is_open in enumerate(spread(open_count, total)):
        created = now - span * ((total - 1 - n) / total)  # oldest first: ids grow with time, as in production
        values = {
            "case_number": case_number(model, n),
            "applicant_id": layout.citizens[rng.randrange(len(layout.citizens))],
            "created_at": created,
            "updated_at": created + datetime.timedelta(hours=2),
        }
        if is_open:
            status = row_for.open_statuses[opened % len(row_for.open_statuses)]
            opened += 1
        else:
            status = row_for.other_statuses[closed % len(row_for.other_statuses)]
            closed += 1
        values["status"] = status
        if status not in row_for.draft_statuses:
            values["submitted_at"] = created + datetime.timedelta(minutes=30)
        limit = row_for.clock_limits.get(status)
        if limit:
            # Far beyond the sweep's horizon; set_due() brings the chosen share within it.
            values.update(
                clock_limit=limit,
                clock_started_on=today - datetime.timedelta(days=2),
                due_date=today + datetime.timedelta(days=20 + n % 40),
            )
        row_for.fill(values, n=n, status=status, layout=layout, rng=rng, created=created)
        yield values


class NcrRows:
    open_statuses = (NcrStatus.ACCEPTED,) * 4 + (NcrStatus.SUBMITTED,)
    # No "approved": see FpRows.
    other_statuses = (NcrStatus.ISSUED,) * 14 + (
        NcrStatus.REFUSED,
        NcrStatus.WITHDRAWN,
        NcrStatus.INFO_REQUESTED,
        NcrStatus.DRAFT,
    )
    draft_statuses = (NcrStatus.DRAFT,)
    clock_limits = {NcrStatus.ACCEPTED: 3}

    @staticmethod
    def fill(values, *, n, status, layout, rng, created):
        values.update(
            office_id=layout.stations[rng.randrange(len(layout.stations))],
            holder_name=NAMES[n % len(NAMES)],
            holder_id_number=f"4101{rng.randrange(10**13, 10**14)}",
            reason=("employment", "abroad", "study", "employment")[n % 4],
            destination_country="加拿大" if n % 4 == 1 else "",
            receiving_organisation="郑州某科技有限公司",
            declaration_at=created,
        )
        if status not in (NcrStatus.DRAFT, NcrStatus.SUBMITTED, NcrStatus.WITHDRAWN):
            values["accepted_at"] = created + datetime.timedelta(hours=20)
        if status in (NcrStatus.ISSUED, NcrStatus.REFUSED, NcrStatus.APPROVED):
            values["decided_at"] = created + datetime.timedelta(days=2)
            values["certificate_generation"] = 1 if status != NcrStatus.REFUSED else 0
        if status == NcrStatus.REFUSED:
            values["refusal_reason"] = "登记在册的犯罪记录未封存"
        if status == NcrStatus.INFO_REQUESTED:
            values.update(info_request="请补充身份证反面照片", paused_at=created + datetime.timedelta(days=1))
            values.update(workdays_left=2, clock_limit=3)


class HukouRows:
    open_statuses = (HkStatus.ACCEPTED, HkStatus.FORWARDED, HkStatus.FORWARDED, HkStatus.APPROVED)
    open_statuses += (HkStatus.EMIGRATED, HkStatus.ACCEPTED, HkStatus.FORWARDED, HkStatus.RETURNED)
    other_statuses = (HkStatus.SETTLED,) * 12 + (
        HkStatus.SUBMITTED,
        HkStatus.REFUSED,
        HkStatus.WITHDRAWN,
        HkStatus.INFO_REQUESTED,
        HkStatus.PAPER,
        HkStatus.DRAFT,
    )
    draft_statuses = (HkStatus.DRAFT,)
    clock_limits = {**CLOCK_LIMITS, HkStatus.FORWARDED: CLOCK_LIMITS[HkStatus.ACCEPTED]}
    categories = tuple(Category.values)
    # Which step each state has passed (what scopes a case to the municipal office and the move-out station).
    forwarded = {HkStatus.FORWARDED, HkStatus.APPROVED, HkStatus.RETURNED, HkStatus.EMIGRATED, HkStatus.SETTLED}
    permitted = {HkStatus.APPROVED, HkStatus.RETURNED, HkStatus.EMIGRATED, HkStatus.SETTLED}
    emigrated = {HkStatus.EMIGRATED, HkStatus.SETTLED}

    @classmethod
    def fill(cls, values, *, n, status, layout, rng, created):
        office = layout.stations[rng.randrange(len(layout.stations))]
        city = layout.city_of[office]
        if rng.random() < 0.7:  # most moves stay within the city
            neighbours = layout.stations_of_city[city]
            origin = neighbours[rng.randrange(len(neighbours))]
        else:
            origin = layout.stations[rng.randrange(len(layout.stations))]
        values.update(
            office_id=office,
            municipal_office_id=layout.household_admin_of_city[city],
            origin_office_id=origin,
            category=cls.categories[n % len(cls.categories)],
            origin_address="洛阳市老城区西大街1号",
            origin_head_name=NAMES[(n + 3) % len(NAMES)],
            destination_address="郑州市金水区金水路2号",
            declaration_at=created,
        )
        day = datetime.timedelta(days=1)
        if status not in (HkStatus.DRAFT, HkStatus.SUBMITTED, HkStatus.WITHDRAWN):
            values["accepted_at"] = created + day
        if status in cls.forwarded:
            values["forwarded_at"] = created + 2 * day
        if status in cls.permitted:
            values.update(permit_number=f"ZQ{CASE_MARK}{n:07d}", permit_issued_at=created + 10 * day)
        if status in cls.emigrated:
            values.update(
                migration_certificate_number=f"QY{CASE_MARK}{n:07d}",
                emigrated_on=(created + 12 * day).date(),
                emigrated_at=created + 12 * day,
            )
        if status == HkStatus.SETTLED:
            values["settled_at"] = created + 15 * day
        if status == HkStatus.RETURNED:
            values["problem_report"] = "原户籍登记信息与申请不符"
        if status == HkStatus.PAPER:
            values.update(paper_reason="系统故障", paper_switched_at=created + day, paper_switched_from="accepted")
        if status == HkStatus.INFO_REQUESTED:
            values.update(
                info_request="请补充户口簿首页",
                info_requested_in=HkStatus.ACCEPTED,
                paused_at=created + day,
                workdays_left=15,
                clock_limit=20,
            )
        if status == HkStatus.REFUSED:
            values["refusal_reason"] = "不符合迁入条件"


class FpRows:
    open_statuses = (FpStatus.ACCEPTED,) * 4 + (FpStatus.SUBMITTED,)
    # No "approved": that state lasts the seconds the worker takes to issue the document, and the requeue sweep
    # would otherwise start making documents for the bench rows.
    other_statuses = (FpStatus.ISSUED,) * 10 + (FpStatus.REFUSED, FpStatus.WITHDRAWN)
    other_statuses += (FpStatus.INFO_REQUESTED, FpStatus.DRAFT)
    draft_statuses = (FpStatus.DRAFT,)
    clock_limits = {FpStatus.ACCEPTED: catalogue.STANDARD_TIME_LIMIT}
    services = tuple(catalogue.SERVICES)

    @classmethod
    def fill(cls, values, *, n, status, layout, rng, created):
        values.update(
            office_id=layout.family_planning[rng.randrange(len(layout.family_planning))],
            service=cls.services[n % len(cls.services)],
            form_version=catalogue.FORM_VERSION,
            answers={},
            declaration_at=created,
        )
        if status not in (FpStatus.DRAFT, FpStatus.SUBMITTED, FpStatus.WITHDRAWN):
            values["accepted_at"] = created + datetime.timedelta(days=1)
        if status in (FpStatus.ISSUED, FpStatus.APPROVED, FpStatus.REFUSED):
            values["decided_at"] = created + datetime.timedelta(days=8)
        if status == FpStatus.REFUSED:
            values["refusal_reason"] = "材料不齐"
        if status == FpStatus.INFO_REQUESTED:
            values.update(info_request="请补充结婚证", paused_at=created + datetime.timedelta(days=1))
            values.update(workdays_left=10, clock_limit=20)


class FeedbackRows:
    open_statuses = (FeedbackStatus.OPEN,)
    other_statuses = (FeedbackStatus.ANSWERED,)
    draft_statuses = ()
    clock_limits = {FeedbackStatus.OPEN: 10}
    kinds = (FeedbackKind.CONSULTATION, FeedbackKind.SUGGESTION, FeedbackKind.COMPLAINT, FeedbackKind.CONSULTATION)

    @classmethod
    def fill(cls, values, *, n, status, layout, rng, created):
        values.update(
            office_id=layout.family_planning[rng.randrange(len(layout.family_planning))],
            kind=cls.kinds[n % len(cls.kinds)],
            subject="关于生育登记办理时限的咨询",
            body="请问生育登记需要多少个工作日?",
        )
        if status == FeedbackStatus.ANSWERED:
            values.update(answer="一般5个工作日内办结。", answered_at=created + datetime.timedelta(days=3))
            values["answered_on_time"] = True


ROWS = {
    Application: NcrRows,
    MigrationApplication: HukouRows,
    FamilyPlanningApplication: FpRows,
    Feedback: FeedbackRows,
}


def bench_cases(model):
    return model.objects.filter(case_number__contains=CASE_MARK)


def seeded_open(model):
    """The bench rows seeded open. Not every row of the model's open states: a hukou application still "submitted"
    is open to the model but seeded among the others (one in 18), so counting those would reseed hukou each time."""
    return bench_cases(model).filter(status__in=set(ROWS[model].open_statuses)).count()


def targets(count):
    """Rows and open rows per case model for --count rows in each main queue (and --count open cases in all)."""
    opens = open_counts(count)
    return {
        model: (opens[model] * FEEDBACK_ROWS_PER_OPEN if model is Feedback else count, opens[model])
        for model in CASE_MODELS
    }


def delete_bench_cases(model):
    table = model._meta.db_table
    with connection.cursor() as cursor:  # raw SQL: the ORM would load a million rows to cascade
        cursor.execute(f"DELETE FROM {table} WHERE case_number LIKE %s", [f"%{CASE_MARK}%"])  # noqa: S608
        return cursor.rowcount


def seed_case_table(model, *, total, open_count, layout):
    """COPY the rows with the table's plain indexes dropped, then build them again: several times faster than
    maintaining some twenty indexes row by row. One transaction: an interrupted seed leaves the table as it was."""
    rng = random.Random(f"{model._meta.label}-20261124")  # noqa: S311 - synthetic data
    started = time.perf_counter()
    with plain_indexes_dropped(model):
        copy_model_rows(model, case_rows(model, total=total, open_count=open_count, layout=layout, rng=rng))
    elapsed = time.perf_counter() - started
    print(f"seeded {total:,} {model._meta.label} rows ({open_count:,} open) in {elapsed:.1f} s")


@contextlib.contextmanager
def plain_indexes_dropped(model):
    """One transaction with the table's plain indexes dropped, built again at the end; then VACUUM ANALYZE."""
    table = model._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = current_schema() AND i.tablename = %s
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        yield
        # The foreign keys are checked at commit (deferred); CREATE INDEX wants those checks done first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _name, definition in indexes:
            cursor.execute(definition)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")


def grow_case_table(model, *, total, open_count):
    """Reach `total` bench rows (`open_count` open) by whole copies, in SQL, of the bench rows present, if they are
    a whole fraction of it with the same share open: each copy gets new case numbers and keeps the rest (state,
    clock, office, applicant, times). False if the rows present are no such fraction (then seed them afresh)."""
    present = bench_cases(model).count()
    if not present or total % present or seeded_open(model) * (total // present) != open_count:
        return False
    table, digits = model._meta.db_table, len(case_number(model, 0).rsplit("-", 1)[1])
    columns = [f.column for f in written_fields(model)]
    values = {column: f"d.{column}" for column in columns}
    # PREFIX-BENCH-NNNNNNN: the copy k of case n is case n + k × present.
    values["case_number"] = (
        f"left(d.case_number, -{digits}) || lpad((right(d.case_number, {digits})::int + k * %(present)s)::text, "
        f"{digits}, '0')"
    )
    started = time.perf_counter()
    with plain_indexes_dropped(model), connection.cursor() as cursor:
        # The copies name the offices and users their originals name: no need to check each foreign key again.
        cursor.execute("SET LOCAL session_replication_role = replica")
        # Table and column names come from the model, never from input.
        cursor.execute(
            f"""INSERT INTO {table} ({", ".join(columns)})
                SELECT {", ".join(values[c] for c in columns)}
                FROM {table} d CROSS JOIN generate_series(1, %(copies)s) k WHERE d.case_number LIKE %(mark)s""",  # noqa: S608
            {"present": present, "copies": total // present - 1, "mark": f"%{CASE_MARK}%"},
        )
    elapsed = time.perf_counter() - started
    print(f"grew {model._meta.label} from {present:,} to {total:,} rows ({open_count:,} open) in {elapsed:.1f} s")
    return True


def ensure_cases(count, *, grow=False):
    assert connection.vendor == "postgresql", "benchmarks run on PostgreSQL (set DATABASE_URL)"
    unpark_open_cases()
    layout = Layout()
    if not layout.complete:
        remove_cases()
        create_offices_and_staff()
        seed_citizens()
        layout = Layout()
    for model, (total, open_count) in targets(count).items():
        if bench_cases(model).count() != total or seeded_open(model) != open_count:
            if grow and grow_case_table(model, total=total, open_count=open_count):
                continue
            removed = delete_bench_cases(model)
            if removed:
                print(f"removed {removed:,} stale {model._meta.label} rows")
            seed_case_table(model, total=total, open_count=open_count, layout=layout)
    ensure_citizen(layout)
    set_due(share=0.01)
    with connection.cursor() as cursor:
        # Planner statistics for every table the seed filled (offices and users too), as autovacuum would keep them.
        cursor.execute("ANALYZE")


# --- the citizen with 50 cases (/me/) -------------------------------------------------------------------------------


CITIZEN_FEW_USERNAME = "bench-citizen-few"


def ensure_citizen(layout):
    """`bench-citizen` with 50 cases across the services (/me/), and `bench-citizen-few` with 5 to compare."""
    _create_citizen(layout, CITIZEN_USERNAME, "410105196507196913", 1, ncr=(8, 6, 6), hukou=(5, 5, 5), fp=(5, 5, 5))
    _create_citizen(layout, CITIZEN_FEW_USERNAME, "410105199001011233", 2, ncr=(1, 1, 0), hukou=(1, 0, 1), fp=(0, 1, 0))


def _create_citizen(layout, username, id_number, day, *, ncr, hukou, fp):
    """A citizen whose cases went through real transitions (so the timeline has rows); (finished, open, draft)."""
    if User.objects.filter(username=username).exists():
        return
    from portal.cases.deadlines import clock_start
    from portal.cases.services import transition

    with transaction.atomic():
        citizen = User(
            username=username,
            real_name="王芳",
            email=f"{username}@bench.invalid",
            id_number=id_number,
            mobile=f"+861380013800{day}",
            email_confirmed_at=timezone.now(),
            mobile_confirmed_at=timezone.now(),
        )
        citizen.set_unusable_password()
        citizen.save()
        station, fp_office = layout.stations[0], layout.family_planning[0]
        city = layout.city_of[station]
        plans = []
        for model, fields, counts, paths in (
            (
                Application,
                {"office_id": station, "holder_name": "王芳", "holder_id_number": id_number},
                ncr,
                (["submitted", "accepted", "issued"], ["submitted", "accepted"]),
            ),
            (
                MigrationApplication,
                {
                    "office_id": station,
                    "municipal_office_id": layout.household_admin_of_city[city],
                    "origin_office_id": layout.stations[1],
                    "category": Category.PART_HOUSEHOLD,
                },
                hukou,
                (["submitted", "accepted", "forwarded", "approved"], ["submitted", "accepted"]),
            ),
            (
                FamilyPlanningApplication,
                {"office_id": fp_office, "service": FpRows.services[0]},
                fp,
                (["submitted", "accepted", "issued"], ["submitted", "accepted"]),
            ),
        ):
            finished, running, drafts = counts
            plans += [(model, fields, paths[0])] * finished + [(model, fields, paths[1])] * running
            plans += [(model, fields, [])] * drafts
        counters = {}
        for model, fields, path in plans:
            n = counters[model] = counters.get(model, 0) + 1
            # A real-looking number (the URLs accept only those) on a day no real case has: 2000-01-0<day>.
            case = model.objects.create(
                case_number=f"{model.CASE_PREFIX}-2000010{day}-{n:05d}", applicant=citizen, status="draft", **fields
            )
            for to in path:
                changes = clock_start(20) if to == "accepted" else {}
                if to == "submitted":
                    changes["submitted_at"] = timezone.now()
                transition(case, to=to, by=citizen, **changes)
    print(f"created {username} with {len(plans)} cases")


# --- the sweep's state: how many open cases, how many due -----------------------------------------------------------

PARKED = "bench_parked_open"  # open rows moved out of the open states for a smaller open set, to put back


def _open_sql(model):
    statuses = ", ".join(f"'{s}'" for s in model.OPEN_STATUSES)
    return f"status IN ({statuses}) AND paused_at IS NULL AND case_number LIKE '%%{CASE_MARK}%%'"


def horizon(today=None):
    today = today or timezone.localdate()
    return today, workdays.add_workdays(today, 1).date


def set_due(*, share=None, count=None):
    """Make exactly `count` (or `share` of the open) bench cases due, spread over the case models; none else.

    Due cases get a due date at or before the horizon (half overdue, half due today) and a clean deadline state;
    every other running bench clock is moved beyond the horizon. Returns the number of due cases per model.
    """
    today, limit = horizon()
    open_now = {model: bench_cases(model).filter(status__in=model.OPEN_STATUSES).count() for model in CASE_MODELS}
    total_open = sum(open_now.values())
    if count is None:
        count = round(total_open * share)
    due = {model: round(count * open_now[model] / total_open) if total_open else 0 for model in CASE_MODELS}
    due[CASE_MODELS[0]] += count - sum(due.values())
    with connection.cursor() as cursor:
        for model, wanted in due.items():
            table, running = model._meta.db_table, f"{_open_sql(model)} AND due_date IS NOT NULL"
            # Table names and statuses come from the models, never from input.
            # A hash order spreads the due cases over every open state and office, the same ones on every run.
            cursor.execute(
                f"""
                WITH chosen AS (SELECT id FROM {table} WHERE {running} ORDER BY md5(id::text) LIMIT %(wanted)s)
                UPDATE {table} SET
                    due_date = CASE WHEN id IN (SELECT id FROM chosen) THEN %(today)s::date - (id %% 2)::int
                                    ELSE %(far)s::date + (id %% 40)::int END,
                    due_state = ''
                WHERE {running} AND (id IN (SELECT id FROM chosen) OR due_date <= %(limit)s OR due_state <> '')
                """,  # noqa: S608
                {
                    "wanted": wanted,
                    "far": limit + datetime.timedelta(days=10),
                    "today": today,
                    "limit": limit,
                },
            )
        for model in CASE_MODELS:
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    actual = {
        model: bench_cases(model)
        .filter(status__in=model.OPEN_STATUSES, paused_at__isnull=True, due_date__lte=limit)
        .count()
        for model in CASE_MODELS
    }
    return actual


def park_open_cases(keep):
    """Leave only `keep` bench cases open: the others move to a closed state, remembered in a side table."""
    unpark_open_cases()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {PARKED} (tbl text, id bigint, status varchar(32))")
        open_now = {m: bench_cases(m).filter(status__in=m.OPEN_STATUSES).count() for m in CASE_MODELS}
        total = sum(open_now.values())
        for model in CASE_MODELS:
            table = model._meta.db_table
            park = max(open_now[model] - round(keep * open_now[model] / total), 0)
            # Spread by a hash over every open state and office, as the due cases are.
            cursor.execute(
                f"""INSERT INTO {PARKED} SELECT %s, id, status FROM {table}
                    WHERE {_open_sql(model)} ORDER BY md5(id::text) LIMIT %s""",  # noqa: S608
                [table, park],
            )
            closed = "answered" if model is Feedback else "withdrawn"
            cursor.execute(
                f"UPDATE {table} t SET status = %s FROM {PARKED} p WHERE p.tbl = %s AND p.id = t.id",  # noqa: S608
                [closed, table],
            )
        for model in CASE_MODELS:
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def parked() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [PARKED])
        return cursor.fetchone()[0] is not None


def unpark_open_cases():
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [PARKED])
        if cursor.fetchone()[0] is None:
            return
        for model in CASE_MODELS:
            table = model._meta.db_table
            cursor.execute(
                f"UPDATE {table} t SET status = p.status FROM {PARKED} p WHERE p.tbl = %s AND p.id = t.id",  # noqa: S608
                [table],
            )
        cursor.execute(f"DROP TABLE {PARKED}")
        for model in CASE_MODELS:
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


# --- removal --------------------------------------------------------------------------------------------------------


def remove_cases():
    from portal.notify.models import OutboxMessage

    unpark_open_cases()
    bench_users = User.objects.filter(username__startswith=USER_PREFIX)
    citizen_cases = []
    for model in CASE_MODELS:
        citizen_cases += list(model.objects.filter(applicant__username__in=[CITIZEN_USERNAME, CITIZEN_FEW_USERNAME]))
    with transaction.atomic():
        for case in citizen_cases:
            Transition.objects.filter(
                content_type=ContentType.objects.get_for_model(type(case)), object_id=case.pk
            ).delete()
            case.delete()
    for model in CASE_MODELS:
        removed = delete_bench_cases(model)
        if removed:
            print(f"removed {removed:,} {model._meta.label} rows")
    with transaction.atomic():
        OutboxMessage.objects.filter(user__in=bench_users).delete()
        Transition.objects.filter(actor__in=bench_users).delete()
        User.groups.through.objects.filter(user__in=bench_users).delete()
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {User._meta.db_table} WHERE username LIKE %s", [f"{USER_PREFIX}%"])  # noqa: S608
            if cursor.rowcount:
                print(f"removed {cursor.rowcount:,} bench users")
            if IssuedDocument.objects.filter(issuing_office__name_en__startswith=OFFICE_MARK).exists():
                print("bench offices kept: bench certificates name them as issuers (remove the certificates first)")
                return
            # Leaves first: the tree is protected from orphaning.
            for kind in (Office.Kind.POLICE_STATION, Office.Kind.FAMILY_PLANNING, Office.Kind.COUNTY):
                cursor.execute(
                    f"DELETE FROM {Office._meta.db_table} WHERE name_en LIKE %s AND kind = %s",  # noqa: S608
                    [f"{OFFICE_MARK}%", kind],
                )
            cursor.execute(f"DELETE FROM {Office._meta.db_table} WHERE name_en LIKE %s", [f"{OFFICE_MARK}%"])  # noqa: S608


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["certificates", "cases", "all"])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--remove", action="store_true")
    parser.add_argument("--ensure", action="store_true", help="only add what is missing up to --count")
    parser.add_argument(
        "--grow",
        action="store_true",
        help="with --ensure: reach --count by copying the bench rows present, in SQL (see the module's doc)",
    )
    parser.add_argument("--due-share", type=float, help="cases: make this share of the open cases due (e.g. 0.01)")
    args = parser.parse_args()
    names = ["certificates", "cases"] if args.dataset == "all" else [args.dataset]
    if args.remove:
        if "certificates" in names:  # first: bench certificates may name bench offices as their issuers
            remove_certificates()
        if "cases" in names:
            remove_cases()
        return
    if "certificates" in names:
        if args.ensure:
            ensure_certificates(args.count, grow=args.grow)
        else:
            seed_certificates(args.count)
    if "cases" in names:
        if args.ensure or not Layout().complete:
            ensure_cases(args.count, grow=args.grow)
        if args.due_share is not None:
            print({m._meta.label: n for m, n in set_due(share=args.due_share).items()})


if __name__ == "__main__":
    main()
