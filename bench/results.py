"""The one results table of `make bench`: each benchmark writes its section into bench/results/results.json, and the
markdown table bench/results/results.md is rebuilt from it.

A figure is the median of several runs, beside the baseline measured in the same run, their ratio, and the target with
whether it is met. Sections are replaced as a whole, so running one benchmark alone refreshes its rows only.
"""

import datetime
import json
import os
import platform
import statistics
import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
JSON_FILE = RESULTS / "results.json"
MD_FILE = RESULTS / "results.md"
# The order of the sections in the table: the benchmarks of `make bench`
# (docs/architecture.md#benchmarks-and-the-load-test).
SECTIONS = ("verify", "pdf", "sweep", "admin", "citizen", "register")


def _now():
    # UTC: benchmark processes run with and without Django's TIME_ZONE in their environment.
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def median(values):
    return statistics.median(values) if values else None


def figure(
    name,
    value,
    unit,
    *,
    runs,
    baseline=None,
    baseline_name="",
    ratio=None,
    target="",
    met=None,
    **extra,
) -> dict:
    """One row: `value` (a median of `runs` runs) beside `baseline`; `ratio` defaults to value / baseline."""
    if ratio is None and baseline:
        ratio = value / baseline
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "runs": runs,
        "baseline": baseline,
        "baseline_name": baseline_name,
        "ratio": ratio,
        "target": target,
        "met": met,
        **extra,
    }


def machine() -> dict:
    info = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    try:
        load = os.getloadavg()
        info["load_average_1_5_15"] = [round(x, 2) for x in load]
    except OSError:
        pass
    try:
        from django.apps import apps
        from django.db import connection

        if apps.ready and connection.vendor == "postgresql":  # a process that set Django up (not pdf_issue's parent)
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                info["postgresql"] = cursor.fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - informational only; a benchmark without Django still records
        info["postgresql"] = f"unknown ({exc.__class__.__name__})"
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - informational
            cwd=RESULTS.parent.parent,
            capture_output=True,
            text=True,
            check=False,
            timeout=5,
        ).stdout.strip()
    except OSError:
        pass
    return info


def load() -> dict:
    if JSON_FILE.exists():
        try:
            return json.loads(JSON_FILE.read_text())
        except ValueError:
            pass
    return {"sections": {}}


def record(section: str, title: str, figures: list[dict], notes=(), details=None) -> dict:
    """Replace `section` in results.json and rebuild results.md."""
    assert section in SECTIONS, section
    data = load()
    data.setdefault("sections", {})[section] = {
        "title": title,
        "measured_at": _now(),
        "machine": machine(),
        "figures": figures,
        "notes": list(notes),
        **({"details": details} if details is not None else {}),
    }
    data["updated_at"] = _now()
    RESULTS.mkdir(parents=True, exist_ok=True)
    JSON_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    MD_FILE.write_text(markdown(data))
    return data


def _number(value, unit=""):
    if value is None:
        return "—"
    if isinstance(value, float):
        if unit in ("req/s", "rows/s") or abs(value) >= 1000:
            text = f"{value:,.0f}"
        elif abs(value) >= 100:
            text = f"{value:.0f}"
        elif abs(value) >= 10:
            text = f"{value:.1f}"
        else:
            text = f"{value:.2f}"
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text} {unit}".strip()


def _met(value):
    return {True: "yes", False: "**no**", None: "—"}[value]


def markdown(data: dict) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (bench/results.py); every figure is the median of the runs shown, beside a baseline",
        "measured in the same run. Targets: docs/architecture.md#benchmarks-and-the-load-test. Machine: 2 cores",
        "shared by the portal, PostgreSQL, Redis and the load generator; a load average above 2 means other work",
        "competed for them during the section.",
        "",
    ]
    sections = data.get("sections", {})
    for key in SECTIONS:
        section = sections.get(key)
        if not section:
            continue
        load = section.get("machine", {}).get("load_average_1_5_15")
        busy = f" (load average {load[0]} on {section['machine'].get('cpus')} cores)" if load else ""
        lines += [f"## {section['title']}", "", f"Measured {section['measured_at']}{busy}.", ""]
        lines += ["| figure | median | runs | baseline | baseline median | ratio | target | met |"]
        lines += ["|---|---|---|---|---|---|---|---|"]
        for f in section["figures"]:
            ratio = f"{f['ratio']:.2f}×" if isinstance(f.get("ratio"), int | float) else "—"
            lines.append(
                f"| {f['name']} | {_number(f['value'], f['unit'])} | {f['runs']} | {f.get('baseline_name') or '—'} "
                f"| {_number(f.get('baseline'), f['unit'])} | {ratio} | {f.get('target') or '—'} | {_met(f.get('met'))} |"
            )
        if section.get("notes"):
            lines.append("")
            lines += [f"- {note}" for note in section["notes"]]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(load()), end="")
