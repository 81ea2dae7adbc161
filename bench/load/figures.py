"""The figures of a load run read back from its files: locust's CSV statistics, and the time each request spent inside
gunicorn (its access log), per route. Used by bench/load/run.py and bench/cluster/run.py."""

import csv
import json
import re
from pathlib import Path


def read_locust_stats(prefix: Path) -> tuple[list[dict], list[dict]]:
    def number(value):
        try:
            return float(value)
        except ValueError:
            return None

    stats = []
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            stats.append(
                {
                    "method": row["Type"],
                    "name": row["Name"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "rps": round(number(row["Requests/s"]) or 0.0, 2),
                    "p50_ms": number(row["50%"]),
                    "p95_ms": number(row["95%"]),
                    "p99_ms": number(row["99%"]),
                    "max_ms": round(number(row["Max Response Time"]) or 0.0),
                }
            )
    failures = []
    with open(f"{prefix}_failures.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            failures.append(
                {"method": row["Method"], "name": row["Name"], "error": row["Error"], "count": int(row["Occurrences"])}
            )
    return stats, failures


ROUTES = (
    (re.compile(r"/[A-Z]{2,8}-\d{8}-(?:[0-9A-Z]{4}-[0-9A-Z]{4}|\d{5,})/"), "/[case]/"),
    (re.compile(r"/[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}/"), "/[code]/"),
    (re.compile(r"/[0-9a-f]{8}-[0-9a-f-]{27}/"), "/[id]/"),
    (re.compile(r"/confirm-email/[^/]+/"), "/confirm-email/[token]/"),
    (re.compile(r"/\d+/"), "/[pk]/"),
)


def access_lines(work: Path, nodes=(("access.log", "gunicorn.log"),)):
    """Access log lines "METHOD PATH STATUS MICROSECONDS": from --access-logfile, or from the JSON lines on gunicorn's
    stdout when gunicorn.conf.py routes the access logger there (logconfig_dict wins over --access-logfile).
    `nodes`: per gunicorn, the names in `work` of its access log and of its output."""
    for access_log, output in nodes:
        for name in (access_log, output):
            path = work / name
            if not path.exists():
                continue
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue
                    if entry.get("logger") == "gunicorn.access":
                        yield str(entry.get("message", ""))
                elif name == access_log:
                    yield line


def server_times(work: Path, nodes=(("access.log", "gunicorn.log"),)) -> tuple[dict, list[dict]]:
    """Per route, the time spent inside gunicorn's worker (the access log's %(D)s), apart from queueing."""
    per_route: dict[tuple, list[float]] = {}
    for line in access_lines(work, nodes):
        parts = line.split()
        if len(parts) != 4 or not parts[3].isdigit():
            continue
        method, url, status, micros = parts
        for pattern, replacement in ROUTES:
            url = pattern.sub(replacement, url)
        per_route.setdefault((method, url), []).append(int(micros) / 1000)

    def summary(values):
        values = sorted(values)
        pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
        return {
            "requests": len(values),
            "p50_ms": round(pick(0.5), 1),
            "p95_ms": round(pick(0.95), 1),
            "total_s": round(sum(values) / 1000, 1),
        }

    everything = [v for values in per_route.values() for v in values]
    rows = [{"method": m, "route": r, **summary(v)} for (m, r), v in per_route.items()]
    rows.sort(key=lambda row: -row["total_s"])
    return (summary(everything) if everything else {}), rows


def server_errors_logged(work: Path, web=("gunicorn.log",), workers=("worker.log",)) -> dict:
    text = "".join((work / name).read_text(errors="replace") for name in web if (work / name).exists())
    worker = "".join((work / name).read_text(errors="replace") for name in workers if (work / name).exists())
    return {
        "web_tracebacks": text.count("Traceback (most recent call last)"),
        "web_worker_timeouts": text.count("WORKER TIMEOUT"),
        "worker_tracebacks": worker.count("Traceback (most recent call last)"),
    }
