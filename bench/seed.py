"""Create (or remove) the million-row benchmark data sets in PostgreSQL, fast, with COPY.

    DATABASE_URL=postgres://… .venv/bin/python bench/seed.py certificates --count 1000000
    DATABASE_URL=postgres://… .venv/bin/python bench/seed.py certificates --remove

Rows are marked (kind "bench") so that --remove deletes exactly them. A sample of the codes is written to
bench/results/verify_codes.txt for the load generator.
"""

import argparse
import datetime
import io
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

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Office  # noqa: E402
from portal.verify.codes import ALPHABET, format_code  # noqa: E402
from portal.verify.models import IssuedDocument  # noqa: E402

BENCH_KIND = "bench"
RESULTS = ROOT / "bench" / "results"


class RowStream(io.RawIOBase):
    """A file-like object that produces COPY text rows on demand, so a million rows never sit in memory."""

    def __init__(self, rows):
        self._rows = rows
        self._buffer = b""

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
        self._buffer = self._buffer[n:]
        return n


def copy_value(value):
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def certificate_rows(count, *, office_ids, source_type_id, start_source_id, sample, rng):
    now = timezone.now()
    fields = [f for f in IssuedDocument._meta.concrete_fields if not f.primary_key]
    for i in range(count):
        code = format_code("".join(rng.choice(ALPHABET) for _ in range(20)))
        if i % max(1, count // 10000) == 0:
            sample.append(code)
        issued = now - datetime.timedelta(days=rng.randrange(0, 700))
        state = rng.random()
        values = {
            "code": code,
            "kind": BENCH_KIND,
            "title": "无犯罪记录证明",
            "title_en": "Certificate of No Criminal Record",
            "source_type_id": source_type_id,
            "source_id": start_source_id + i,
            "generation": 1,
            "holder_id": None,
            "holder_name": rng.choice(["张三", "李四", "王小明", "赵敏", "陈静", "欧阳娜娜"]),
            "issuing_office_id": rng.choice(office_ids),
            "issued_at": issued,
            "valid_until": (issued + datetime.timedelta(days=90)).date(),
            "status": "revoked" if state < 0.02 else "valid",
            "revoked_at": issued + datetime.timedelta(days=3) if state < 0.02 else None,
        }
        row = []
        for field in fields:
            if field.column in values:
                row.append(values[field.column])
            elif field.has_default():
                row.append(field.get_default())
            elif field.null:
                row.append(None)
            else:
                row.append("")
        yield ("\t".join(copy_value(v) for v in row) + "\n").encode()


def seed_certificates(count):
    assert connection.vendor == "postgresql", "benchmarks run on PostgreSQL (set DATABASE_URL)"
    rng = random.Random(20261124)  # noqa: S311 - synthetic data
    office_ids = list(Office.objects.values_list("pk", flat=True))
    source_type = ContentType.objects.get_for_model(Office)  # any model: the source is not followed here
    start = (IssuedDocument.objects.filter(kind=BENCH_KIND).order_by("-source_id").values_list("source_id", flat=True).first() or 0) + 1
    sample = []
    fields = [f.column for f in IssuedDocument._meta.concrete_fields if not f.primary_key]
    started = time.perf_counter()
    stream = io.BufferedReader(
        RowStream(
            certificate_rows(
                count, office_ids=office_ids, source_type_id=source_type.pk, start_source_id=start, sample=sample, rng=rng
            )
        ),
        buffer_size=1 << 20,
    )
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {IssuedDocument._meta.db_table} ({', '.join(fields)}) FROM STDIN", stream
        )
        cursor.execute(f"ANALYZE {IssuedDocument._meta.db_table}")
    elapsed = time.perf_counter() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "verify_codes.txt").write_text("\n".join(sample) + "\n")
    print(f"seeded {count} certificates in {elapsed:.1f} s ({count / elapsed:,.0f} rows/s)")


def remove_certificates():
    from portal.verify.models import VerificationLog

    table, logs = IssuedDocument._meta.db_table, VerificationLog._meta.db_table
    with connection.cursor() as cursor:  # raw SQL: the ORM would load a million rows to cascade
        # Table names come from the models, never from input.
        cursor.execute(f"DELETE FROM {logs} WHERE document_id IN (SELECT id FROM {table} WHERE kind = %s)", [BENCH_KIND])  # noqa: S608
        cursor.execute(f"DELETE FROM {table} WHERE kind = %s", [BENCH_KIND])  # noqa: S608
        print(f"removed {cursor.rowcount} benchmark rows")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["certificates"])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--remove", action="store_true")
    parser.add_argument("--ensure", action="store_true", help="only add what is missing up to --count")
    args = parser.parse_args()
    if args.remove:
        remove_certificates()
        return
    count = args.count
    if args.ensure:
        count -= IssuedDocument.objects.filter(kind=BENCH_KIND).count()
    if count > 0:
        seed_certificates(count)
    else:
        write_sample()


def write_sample(size=10000):
    codes = IssuedDocument.objects.filter(kind=BENCH_KIND).order_by("?").values_list("code", flat=True)[:size]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "verify_codes.txt").write_text("\n".join(codes) + "\n")
    print(f"benchmark data present; sampled {size} codes")


if __name__ == "__main__":
    main()
