"""Issuing one certificate PDF (render + sign + store) against a bare WeasyPrint render of the same HTML.

    .venv/bin/python bench/pdf_issue.py            # BENCH_PDF_RUNS=15 by default

Sets up Django itself (DEBUG=1, a throw-away VAR_DIR/MEDIA_ROOT/SQLite database and signing key), then, for each
font set-up (the installed fonts, and the same without Debian's fonts-noto-cjk, via a fontconfig file that
rejects it) and each holder name (common characters; a rare one, 𡃁 U+210C1), times interleaved runs of:
  bare  = weasyprint.HTML(string=<the same HTML>).write_pdf()
  issue = issued_document_claim + verification_context (QR, e-seal) + render_pdf + sign_pdf + issued_document_store
and reports medians, the ratio (target <= 1.3x), the PDF size (target <= 300 KB), whether any glyph fell back to
.notdef (tofu), and the process's peak RSS. Each font set-up runs in its own process (fontconfig is per process).
Prints a markdown table and writes bench/results/pdf_issue.json.
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

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
RUNS = int(os.environ.get("BENCH_PDF_RUNS", "15"))
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


def child(fonts_label: str) -> dict:
    """One font set-up, in this process: set up Django on throw-away state and time both paths."""
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
    from portal.verify import services

    notdef = NotdefCounter()
    logging.getLogger("weasyprint").addHandler(notdef)
    office = Office.objects.filter(kind=Office.Kind.POLICE_STATION).first() or Office.objects.first()
    source = office  # any model instance will do: the source is only the idempotency key here
    generation = iter(range(1, 10_000))

    def context_for(document, name):
        return {
            **services.verification_context(document),
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
        document, _ = services.issued_document_claim(
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
        return services.issued_document_store(document=document, pdf=signed)

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


def main():
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(sys.argv[2])))
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
    result = {
        "runs": RUNS,
        "targets": {"ratio_max": TARGET_RATIO, "pdf_kb_max": TARGET_KB},
        "fonts_noto_cjk_installed": noto,
        "rows": rows,
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
    print("result:", "within targets" if ok else "OUTSIDE TARGETS")


if __name__ == "__main__":
    main()
