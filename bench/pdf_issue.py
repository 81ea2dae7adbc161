"""Issuing one certificate PDF (render + sign + store) against a bare WeasyPrint render of the same HTML.

    .venv/bin/python bench/pdf_issue.py            # BENCH_PDF_RUNS=15 by default

Sets up Django itself (DEBUG=1, a throw-away VAR_DIR/MEDIA_ROOT/SQLite database and signing key), then, for each
font set-up (the installed fonts, and the same without Debian's fonts-noto-cjk, via a fontconfig file that
rejects it) and each holder name (common characters; a rare one, 𡃁 U+210C1), times interleaved runs of:
  bare  = weasyprint.HTML(string=<the same HTML>).write_pdf()
  issue = issued_document_claim + verification_context (QR, e-seal) + render_pdf + sign_pdf + issued_document_store
and reports medians, the ratio (target <= 1.3x), the PDF size (target <= 300 KB), whether any glyph fell back to
.notdef (tofu), and the process's peak RSS. Each font set-up runs in its own process (fontconfig is per process).
Then the throughput of the issue path with 1 and with 2 processes at once (BENCH_PDF_THROUGHPUT_COUNT certificates
each, BENCH_PDF_THROUGHPUT_RUNS runs). Prints a markdown table, writes bench/results/pdf_issue.json and the "pdf"
section of bench/results/results.{json,md}.
"""

import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
RUNS = int(os.environ.get("BENCH_PDF_RUNS", "15"))
THROUGHPUT_RUNS = int(os.environ.get("BENCH_PDF_THROUGHPUT_RUNS", "3"))
THROUGHPUT_COUNT = int(os.environ.get("BENCH_PDF_THROUGHPUT_COUNT", "20"))
WARMUP = 2
NAMES = {"common": "王小明", "rare": "张\U000210c1三"}
TARGET_RATIO, TARGET_KB = 1.3, 300
NOTO_DIR = "/usr/share/fonts/opentype/noto"
FONTS_CONF_WITHOUT_NOTO = f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont><glob>{NOTO_DIR}/*</glob></rejectfont></selectfont>
</fontconfig>
"""


class NotdefCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record):
        if ".notdef" in record.getMessage():
            self.count += 1


def setup() -> SimpleNamespace:
    """Set up Django in this process on throw-away state (SQLite, media, signing key); the issue path and helpers."""
    tmp = Path(tempfile.mkdtemp(prefix="pdf-bench-"))
    os.environ.update(
        DEBUG="1",
        VAR_DIR=str(tmp),
        MEDIA_ROOT=str(tmp / "media"),
        DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
        SIGNING_KEY_FILE=str(tmp / "signing" / "key.pem"),
        SIGNING_CERT_FILE=str(tmp / "signing" / "cert.pem"),
        SITE_URL="https://ezwfw.example.test",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="portal.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.TEMPLATES[0]["DIRS"] = [*settings.TEMPLATES[0]["DIRS"], ROOT / "bench" / "templates"]
    call_command("migrate", verbosity=0)
    call_command("make_signing_key", stdout=open(os.devnull, "w"))  # noqa: SIM115

    from weasyprint import HTML
    from weasyprint.text import ffi

    from accounts.models import Office
    from portal import pdf
    from portal.verify import issuing

    notdef = NotdefCounter()
    logging.getLogger("weasyprint").addHandler(notdef)
    office = Office.objects.filter(kind=Office.Kind.POLICE_STATION).first() or Office.objects.first()
    source = office  # any model instance will do: the source is only the idempotency key here
    generation = iter(range(1, 10_000))

    def context_for(document, name):
        return {
            **issuing.verification_context(document),
            "name": name,
            "id_number": "410105199001011234",
            "office_name": office.name,
            "office_name_en": office.name_en,
            "organisation": "加拿大驻华大使馆 Embassy of Canada to China",
            "query_date": "2026年5月6日",
            "query_date_en": "6 May 2026",
            "issued_on": "2026-05-06",
            "valid_until": "2026-08-06",
        }

    def claim(name):
        document, _ = issuing.issued_document_claim(
            source=source,
            generation=next(generation),
            kind="bench_certificate",
            title="无犯罪记录证明",
            title_en="Certificate of No Criminal Record",
            holder=None,
            holder_name=name,
            issuing_office=office,
            valid_until=None,
        )
        return document

    def issue(name):
        document = claim(name)
        signed = pdf.sign_pdf(
            pdf.render_pdf("bench/pdf_certificate.html", context_for(document, name)), reason="benchmark"
        )
        return issuing.issued_document_store(document=document, pdf=signed)

    return SimpleNamespace(
        issue=issue, claim=claim, context_for=context_for, notdef=notdef, settings=settings, pdf=pdf, HTML=HTML, ffi=ffi
    )


def child(fonts_label: str) -> dict:
    """One font set-up, in this process: time both paths."""
    bench = setup()
    issue, claim, context_for = bench.issue, bench.claim, bench.context_for
    notdef, pdf, HTML, settings, ffi = bench.notdef, bench.pdf, bench.HTML, bench.settings, bench.ffi  # noqa: N806
    rows = []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for label, name in NAMES.items():  # common first: its peak RSS is measured before any rare glyph loads Noto
        html = pdf.render_html("bench/pdf_certificate.html", context_for(claim(name), name))

        def bare(html=html):
            return HTML(string=html, base_url=pdf.PDF_BASE_URL, url_fetcher=pdf.url_fetcher()).write_pdf()

        for _ in range(WARMUP):
            bare()
            issue(name)
        bare_times, issue_times = [], []
        notdef.count = 0
        for _ in range(RUNS):
            started = time.perf_counter()
            bare_pdf = bare()
            bare_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            document = issue(name)
            issue_times.append(time.perf_counter() - started)
        assert (
            document.status == "valid"
            and pdf.check_signature((Path(settings.MEDIA_ROOT) / "private" / document.file.name).read_bytes()).ok
        )
        bare_ms, issue_ms = statistics.median(bare_times) * 1000, statistics.median(issue_times) * 1000
        rows.append(
            {
                "fonts": fonts_label,
                "name": label,
                "bare_render_ms": round(bare_ms, 1),
                "issue_ms": round(issue_ms, 1),
                "ratio": round(issue_ms / bare_ms, 3),
                "bare_pdf_kb": round(len(bare_pdf) / 1024, 1),
                "issued_pdf_kb": round(document.size / 1024, 1),
                "notdef_per_pdf": notdef.count // (2 * RUNS),  # warnings per render, bare and issue alike
                "harfbuzz_subset": ffi.harfbuzz_subset is not None,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "rss_before_rendering_mb": round(rss_before),
            }
        )
    return {"rows": rows}


def throughput_child(count: int, ready: str, go: str) -> dict:
    """Issue `count` certificates as fast as one process can, starting when the parent says go."""
    bench = setup()
    bench.issue(NAMES["common"])  # warm: fonts, templates, the key
    Path(ready).touch()
    deadline = time.monotonic() + 600
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    started = time.time()  # wall clock: comparable across the processes
    for _ in range(count):
        bench.issue(NAMES["common"])
    return {"started": started, "ended": time.time(), "count": count}


def throughput(processes: int, count: int) -> float:
    """Certificates per second issued by `processes` processes at once (each on its own state), wall clock."""
    tmp = Path(tempfile.mkdtemp(prefix="pdf-throughput-"))
    go = tmp / "go"
    ready = [tmp / f"ready-{i}" for i in range(processes)]
    children = [
        subprocess.Popen(  # noqa: S603 - this very script, with our own arguments
            [sys.executable, __file__, "--throughput", str(count), str(r), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in ready
    ]
    try:
        deadline = time.monotonic() + 600
        while not all(r.exists() for r in ready):
            if time.monotonic() > deadline or any(c.poll() not in (None, 0) for c in children):
                raise RuntimeError(
                    "throughput child failed: " + "".join(c.stderr.read() or "" for c in children if c.poll())
                )
            time.sleep(0.05)
        go.touch()
        outs = []
        for c in children:
            stdout, stderr = c.communicate(timeout=900)
            if c.returncode:
                raise RuntimeError(f"throughput child failed:\n{stderr[-4000:]}")
            outs.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
    wall = max(o["ended"] for o in outs) - min(o["started"] for o in outs)
    return sum(o["count"] for o in outs) / wall


def main():
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(sys.argv[2])))
        return
    if sys.argv[1:2] == ["--throughput"]:
        print(json.dumps(throughput_child(int(sys.argv[2]), sys.argv[3], sys.argv[4])))
        return
    setups = [("installed fonts", None)]
    noto = Path(NOTO_DIR).is_dir() and any(Path(NOTO_DIR).iterdir())
    conf = None
    if noto:
        conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)  # noqa: SIM115
        conf.write(FONTS_CONF_WITHOUT_NOTO)
        conf.close()
        setups.append(("without fonts-noto-cjk", conf.name))
    rows = []
    try:
        for label, fonts_conf in setups:
            env = {**os.environ}
            if fonts_conf:
                env["FONTCONFIG_FILE"] = fonts_conf
            out = subprocess.run(  # noqa: S603 - this very script, with our own arguments
                [sys.executable, __file__, "--child", label],
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=900,
            )
            if out.returncode:
                sys.exit(f"benchmark child failed:\n{out.stderr[-4000:]}")
            rows += json.loads(out.stdout.strip().splitlines()[-1])["rows"]
    finally:
        if conf:
            os.unlink(conf.name)
    per_second = {n: [] for n in (1, 2)}
    for _ in range(THROUGHPUT_RUNS):  # interleaved, so both see the same machine
        for n in per_second:
            per_second[n].append(throughput(n, THROUGHPUT_COUNT))
    result = {
        "runs": RUNS,
        "targets": {"ratio_max": TARGET_RATIO, "pdf_kb_max": TARGET_KB},
        "fonts_noto_cjk_installed": noto,
        "rows": rows,
        "throughput_per_second": per_second,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pdf_issue.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"PDF issue benchmark: median of {RUNS} interleaved runs each (2 cores)\n")
    print(
        "| fonts | holder name | bare render ms | render+sign+store ms | ratio | PDF KB | .notdef (tofu) | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['fonts']} | {r['name']} | {r['bare_render_ms']} | {r['issue_ms']} | {r['ratio']:.2f}x "
            f"| {r['issued_pdf_kb']} | {r['notdef_per_pdf']} | {r['peak_rss_mb']} |"
        )
    print(f"\nRSS after Django set-up, before rendering: {rows[0]['rss_before_rendering_mb']} MB")
    print(f"targets: ratio <= {TARGET_RATIO}x, PDF <= {TARGET_KB} KB, no tofu")
    ok = all(
        r["ratio"] <= TARGET_RATIO and r["issued_pdf_kb"] <= TARGET_KB and not r["notdef_per_pdf"]
        for r in rows
        if r["fonts"] == "installed fonts"
    )
    for n, values in per_second.items():
        print(f"throughput, {n} process(es): {statistics.median(values):.2f} certificates/s (median of {len(values)})")
    print("result:", "within targets" if ok else "OUTSIDE TARGETS")
    record_results(rows, per_second, noto)


def record_results(rows, per_second, noto):
    """The "pdf" section of the shared table (bench/results.py)."""
    sys.path.insert(0, str(ROOT))
    from bench import results

    figures = []
    for r in rows:
        targeted = r["fonts"] == "installed fonts"
        figures.append(
            results.figure(
                f"issue (render + sign + store), {r['fonts']}, {r['name']} name: {r['issued_pdf_kb']} KB, "
                f"{r['notdef_per_pdf']} tofu, peak RSS {r['peak_rss_mb']} MB",
                r["issue_ms"],
                "ms",
                runs=RUNS,
                baseline=r["bare_render_ms"],
                baseline_name="bare WeasyPrint render, same HTML",
                ratio=r["ratio"],
                target=f"≤ {TARGET_RATIO}×, ≤ {TARGET_KB} KB, no tofu" if targeted else "",
                met=(r["ratio"] <= TARGET_RATIO and r["issued_pdf_kb"] <= TARGET_KB and not r["notdef_per_pdf"])
                if targeted
                else None,
            )
        )
    one, two = statistics.median(per_second[1]), statistics.median(per_second[2])
    figures.append(
        results.figure(
            "throughput, 1 worker process (certificates issued per second)",
            one,
            "per s",
            runs=THROUGHPUT_RUNS,
        )
    )
    figures.append(
        results.figure(
            "throughput, 2 worker processes at once",
            two,
            "per s",
            runs=THROUGHPUT_RUNS,
            baseline=one,
            baseline_name="1 worker process",
        )
    )
    results.record(
        "pdf",
        "Certificate issue (2): render + sign + store beside a bare WeasyPrint render",
        figures,
        [
            f"Median of {RUNS} interleaved runs per row; throughput: {THROUGHPUT_COUNT} certificates per process per "
            "run, the processes started together, wall clock from the first start to the last end.",
            "fonts-noto-cjk installed: " + ("yes" if noto else "no (the 'without' rows are missing)") + "; the "
            "'without fonts-noto-cjk' rows show the cost of the rare-character fallback font.",
        ],
        details={"rows": rows, "throughput_per_second": per_second},
    )


if __name__ == "__main__":
    main()
