"""portal.pdf: template -> PDF with embedded CJK fonts, the locked-down URL fetcher, QR, e-seal and PAdES."""

import copy
import io
import logging
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.test import override_settings
from pypdf import PdfReader

from portal import pdf
from portal.pdf import FetchRefused, fetch_resource
from tests.pki import install_signer, make_forged_keys, signing_settings

PROBE_TEMPLATES = Path(__file__).resolve().parent / "pdf_templates"
RARE = "\U000210c1"  # 𡃁, outside the BMP and outside WenQuanYi Zen Hei
CODE = "ABCD-EFGH-JKMN-PQRS-TVWX"


@pytest.fixture(autouse=True, scope="module")
def probe_templates():
    from django.conf import settings

    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], PROBE_TEMPLATES]
    with override_settings(TEMPLATES=templates):
        yield


def make_key_pair(directory: Path):
    """The portal's signing key and certificate from the test PKI (tests/pki.py), installed in `directory`."""
    return install_signer(directory)


@pytest.fixture(scope="session")
def portal_keys(tmp_path_factory):
    return make_key_pair(tmp_path_factory.mktemp("portal-key"))


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory):
    """A forger's key: a certificate with the portal's subject name under a look-alike root and CA."""
    return make_forged_keys(tmp_path_factory.mktemp("other-key"))


@pytest.fixture
def signing(settings, portal_keys):
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, portal_keys)
    return portal_keys


def probe_context(**overrides):
    context = {
        "title": "无犯罪记录证明",
        "title_en": "Certificate of No Criminal Record",
        "office": "郑州市公安局金水路派出所",
        "name": "张三",
        "id_number": "410105199001011234",
        "purpose": "就业",
        "query_date": "2026年5月1日",
        "code": CODE,
    }
    context.update(overrides)
    return context


@pytest.fixture(scope="module")
def unsigned_pdf():
    return pdf.render_pdf("pdf/probe.html", probe_context())


@pytest.fixture
def signed_pdf(signing, unsigned_pdf):
    return pdf.sign_pdf(unsigned_pdf, reason="Certificate of No Criminal Record")


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def read_spy(monkeypatch):
    """Every path the fetcher reads from disk."""
    seen = []
    original = pdf._read_file

    def spy(path):
        seen.append(str(path))
        return original(path)

    monkeypatch.setattr(pdf, "_read_file", spy)
    return seen


# --- rendering ---------------------------------------------------------------------------------------


def test_render_pdf_embeds_chinese_text(unsigned_pdf):
    assert unsigned_pdf.startswith(b"%PDF-")
    text = text_of(unsigned_pdf)
    assert "无犯罪记录证明" in text
    assert "张三" in text
    assert "本电子证明与纸质证明具有同等法律效力" in text
    # Fonts are embedded and subset (a 6-letter tag before the name), never the whole CJK font.
    reader = PdfReader(io.BytesIO(unsigned_pdf))
    fonts = [f.get_object() for f in reader.pages[0]["/Resources"]["/Font"].values()]
    assert fonts and all(str(f["/BaseFont"])[7:8] == "+" for f in fonts)
    assert len(unsigned_pdf) < 100_000


def test_render_pdf_renders_under_the_requested_language():
    chinese = text_of(pdf.render_pdf("pdf/probe.html", probe_context()))
    english = text_of(pdf.render_pdf("pdf/probe.html", probe_context(), language="en"))
    assert "language=zh-hans" in chinese
    assert "language=en" in english


def test_harfbuzz_subsetter_is_used(caplog):
    from weasyprint.text import ffi

    assert ffi.harfbuzz_subset is not None, "install libharfbuzz-subset0 (docs/architecture.md#platform-notes)"
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf.render_pdf("pdf/probe.html", probe_context(name="王小明"))
    assert not [r for r in caplog.records if "fontTools instead of HarfBuzz" in r.getMessage()]


def test_rare_character_is_rendered_not_tofu(caplog):
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        data = pdf.render_pdf("pdf/probe.html", probe_context(name=f"张{RARE}三"))
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()], "no installed font has U+210C1"
    assert f"张{RARE}三" in text_of(data)
    assert len(data) <= 300 * 1024


def test_malicious_field_values_reach_the_pdf_escaped_and_never_fetched(read_spy, caplog):
    hostile = '<script>alert(1)</script><img src="file:///etc/passwd"><link rel="attachment" href="/etc/passwd">'
    long_name = "欧阳" + "很" * 400
    with caplog.at_level(logging.WARNING):
        data = pdf.render_pdf("pdf/probe.html", probe_context(name=long_name, purpose=hostile))
    text = text_of(data).replace("\n", "")
    assert "<script>alert(1)</script>" in text
    assert 'src="file:///etc/passwd"' in text  # shown as text, not loaded
    assert "root:" not in text
    assert not [p for p in read_spy if "passwd" in p]
    assert not PdfReader(io.BytesIO(data)).attachments
    assert not [r for r in caplog.records if "refused to fetch" in r.getMessage()]  # not even asked


def test_template_level_file_and_http_urls_are_refused_not_fetched(read_spy, caplog):
    # Even markup in a template (not data) cannot make WeasyPrint read a file or the network.
    extra = (
        '<img src="file:///etc/passwd">'
        '<link rel="attachment" href="file:///etc/passwd">'
        '<img src="http://127.0.0.1:9/probe.png">'
        '<img src="../../../../etc/passwd">'
        '<img src="/static/../../etc/hostname">'
        '<img src="/static/images/logo.svg">'
    )
    with caplog.at_level(logging.WARNING, logger="portal.pdf"):
        data = pdf.render_pdf("pdf/probe.html", probe_context(extra=extra))
    refused = " ".join(r.getMessage() for r in caplog.records if "refused to fetch" in r.getMessage())
    assert "file:///etc/passwd" in refused
    assert "http://127.0.0.1:9/probe.png" in refused
    assert "etc/passwd" in refused.replace("file:///etc/passwd", "")
    assert not [p for p in read_spy if "passwd" in p or "hostname" in p]
    assert any(p.endswith("images/logo.svg") for p in read_spy)  # the spy sees what is fetched
    assert not PdfReader(io.BytesIO(data)).attachments
    assert "root:" not in text_of(data)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://127.0.0.1/static/pdf/pdf.css",
        "https://example.com/static/pdf/pdf.css",
        "ftp://portal.invalid/static/pdf/pdf.css",
        "https://portal.invalid/etc/passwd",
        "https://portal.invalid/static/../../etc/passwd",
        "https://portal.invalid/static/%2e%2e/%2e%2e/etc/passwd",
        "https://portal.invalid/static/pdf/..%2f..%2f..%2fsettings.py",
        "https://portal.invalid/static//etc/passwd",
        "https://portal.invalid/static/no-such-file.css",
        "/etc/passwd",
        "etc/passwd",
    ],
)
def test_fetcher_refuses_everything_but_static_and_data(url, read_spy):
    with pytest.raises(FetchRefused):
        fetch_resource(url)
    with pytest.raises(FetchRefused):
        pdf.url_fetcher().fetch(url)
    assert read_spy == []


def test_fetcher_serves_static_files_and_data_uris():
    css = fetch_resource(pdf.PDF_BASE_URL + "static/pdf/pdf.css")
    assert b"@page" in css.data and css.mime_type == "text/css"
    assert fetch_resource("data:text/plain;base64,aGk=").data == b"hi"
    assert fetch_resource("data:image/svg+xml,%3Csvg%2F%3E").data == b"<svg/>"
    response = pdf.url_fetcher().fetch(pdf.PDF_BASE_URL + "static/images/logo.svg")
    assert response.read().lstrip().startswith(b"<")


# --- QR code and e-seal --------------------------------------------------------------------------------


def test_qr_code_in_the_pdf_decodes_to_the_verify_url(tmp_path, settings):
    # pdftoppm and zbarimg come from Debian's poppler-utils and zbar-tools (the Makefile's TEST_DEBS).
    assert shutil.which("pdftoppm") and shutil.which("zbarimg"), "apt-get install poppler-utils zbar-tools"
    from portal.verify.issuing import verify_url

    settings.SITE_URL = "https://ezwfw.example.test"
    url = verify_url(CODE)
    data = pdf.render_pdf(
        "pdf/probe.html", probe_context(qr=pdf.qr_data_uri(url), seal=pdf.seal_data_uri("测试派出所"))
    )
    (tmp_path / "c.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", "c.pdf", "page"], cwd=tmp_path, check=True)
    out = subprocess.run(
        ["zbarimg", "-q", "--raw", "page.png"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    decoded = [line for line in out.stdout.splitlines() if line.startswith("http")]
    assert decoded == [url] == ["https://ezwfw.example.test/verify/ABCD-EFGH-JKMN-PQRS-TVWX/"]


def test_seal_is_a_drawn_svg_with_the_office_name_escaped():
    svg = pdf.seal_svg('A&B <派出所> "x"', label="电子印章")
    root = ET.fromstring(svg)  # noqa: S314 - our own SVG; well-formed means the name cannot break out
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "".join(texts[:-1]) == 'A&B <派出所> "x"'
    assert texts[-1] == "电子印章"
    assert root.find(f".//{ns}circle") is not None and root.find(f".//{ns}polygon") is not None
    assert not list(root.iter(f"{ns}image"))  # never a picture of a real seal
    assert pdf.seal_data_uri("派出所").startswith("data:image/svg+xml;base64,")


def test_seal_text_is_in_the_pdf():
    data = pdf.render_pdf(
        "pdf/probe.html", probe_context(qr=pdf.qr_data_uri("x"), seal=pdf.seal_data_uri("金水派出所"))
    )
    text = text_of(data).replace("\n", "")
    assert "金水派出所" in text and "电子印章" in text


# --- signatures --------------------------------------------------------------------------------------


def test_signed_pdf_is_valid_and_intact(signed_pdf):
    check = pdf.check_signature(signed_pdf)
    assert check.signed and check.valid and check.intact and check.ok
    assert check.signer.startswith("Henan e-Services document signing")
    assert check.signed_at is not None
    field = PdfReader(io.BytesIO(signed_pdf)).get_fields()["Signature"]
    sig = field["/V"].get_object()
    assert sig["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert "无犯罪记录证明" in text_of(signed_pdf)


def _byte_range(data: bytes):
    sig = PdfReader(io.BytesIO(data)).get_fields()["Signature"]["/V"].get_object()
    return [int(x) for x in sig["/ByteRange"]]


@pytest.mark.parametrize("where", ["first", "second"])
def test_one_changed_byte_breaks_the_signature(signed_pdf, where):
    start1, len1, start2, len2 = _byte_range(signed_pdf)
    position = start1 + len1 // 2 if where == "first" else start2 + len2 // 2
    altered = bytearray(signed_pdf)
    altered[position] ^= 0x01
    check = pdf.check_signature(bytes(altered))
    assert check.signed
    assert not check.intact and not check.valid and not check.ok


def test_appended_bytes_are_not_intact(signed_pdf):
    check = pdf.check_signature(signed_pdf + b"\n% appended after signing\n")
    assert not check.intact and not check.ok


def test_signature_by_another_key_is_not_valid(settings, other_keys, portal_keys, unsigned_pdf):
    # The forger copied every name: subject, issuer, root; only the keys differ.
    for name, value in signing_settings(other_keys[0].parent).items():
        setattr(settings, name, value)
    foreign = pdf.sign_pdf(unsigned_pdf, reason="forged")
    assert pdf.check_signature(foreign).ok  # sound when its own root is the trust root
    for name, value in signing_settings(portal_keys[0].parent).items():
        setattr(settings, name, value)
    check = pdf.check_signature(foreign)
    assert check.signed and check.intact
    assert check.signer == "Henan e-Services document signing"  # the very name of the portal's certificate
    assert not check.valid and not check.ok


def test_unsigned_and_garbage_are_reported_unsigned(signing, unsigned_pdf):
    assert pdf.check_signature(unsigned_pdf) == pdf.SignatureCheck(
        signed=False, valid=False, intact=False, error="no signature"
    )
    garbage = pdf.check_signature(b"%PDF-1.7\n garbage")
    assert not garbage.signed and not garbage.ok


def test_signer_is_loaded_once_and_again_after_the_key_changes(tmp_path, settings):
    key, cert = make_key_pair(tmp_path)
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = str(key), str(cert)
    first = pdf.signer()
    assert pdf.signer() is first
    stat = os.stat(key)
    os.utime(key, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert pdf.signer() is not first


def test_signature_space_is_measured_once_and_reestimated_when_too_small(signing, unsigned_pdf):
    first = pdf.sign_pdf(unsigned_pdf, reason="one")
    reserved = pdf._reserved_for[(id(pdf.signer()), False)]
    assert reserved == pdf._reserved_size(first) and reserved % 2 == 0
    second = pdf.sign_pdf(unsigned_pdf, reason="two")
    assert pdf._reserved_size(second) == reserved and pdf.check_signature(second).ok
    pdf._reserved_for[(id(pdf.signer()), False)] = 64  # far too small: pyHanko refuses, we estimate again
    third = pdf.sign_pdf(unsigned_pdf, reason="three")
    assert pdf.check_signature(third).ok
    assert abs(pdf._reserved_for[(id(pdf.signer()), False)] - reserved) <= 16  # measured again (ECDSA lengths vary)
