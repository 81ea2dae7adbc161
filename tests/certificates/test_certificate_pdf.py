"""The certificate as a document: the office's full name, the holder in pinyin, PDF/A-2b, tagged, and still
validly signed (B-B and B-LTA) after the PDF/A rendering."""

import io
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from accounts.models import Office
from certificates import tasks
from portal import pdf
from portal.verify.issuing import issued_documents_for_source
from portal.verify.models import DocumentStatus
from tests.factories import ApplicationFactory, OfficeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def jingba(db):
    city = Office.objects.get(kind=Office.Kind.CITY, division_code="410100")
    branch = OfficeFactory(
        name="郑州市公安局金水分局",
        name_en="Jinshui Branch, Zhengzhou PSB",
        kind=Office.Kind.COUNTY,
        division_code="410105",
        parent=city,
    )
    return OfficeFactory(
        name="经八路派出所",
        name_en="Jingba Road Police Station",
        kind=Office.Kind.POLICE_STATION,
        division_code="410105",
        parent=branch,
    )


def issue(office, name="欧阳娜娜"):
    applicant = UserFactory(real_name=name, language="en")
    application = ApplicationFactory(
        office=office,
        applicant=applicant,
        approved=True,
        holder_name=name,
    )
    assert tasks.generate_certificate(application.pk, 1) == "issued"
    document = issued_documents_for_source(application).get()
    assert document.status == DocumentStatus.VALID
    return document


def stored_pdf(document):
    from portal.documents.storage import private_storage

    with private_storage.open(document.file.name) as fh:
        return fh.read()


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_office_full_name_walks_up_to_the_city_bureau(jingba):
    assert jingba.full_name() == "郑州市公安局金水分局经八路派出所"
    assert jingba.full_name_en() == "Jingba Road Police Station, Jinshui Branch, Zhengzhou PSB"
    city = Office.objects.get(kind=Office.Kind.CITY, division_code="410100")
    station = OfficeFactory(name="某派出所", name_en="", kind=Office.Kind.POLICE_STATION, parent=city)
    assert station.full_name() == "郑州市公安局某派出所"  # never the province above the city


def test_certificate_names_the_full_office_and_the_holder_in_pinyin(jingba, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    document = issue(jingba, "单雄信")
    text = text_of(stored_pdf(document)).replace("\n", "")
    assert "郑州市公安局金水分局经八路派出所" in text
    assert "Jingba Road Police Station, Jinshui Branch, Zhengzhou PSB" in text
    assert "SHAN Xiongxin" in text
    # The English statement names the holder in pinyin, not in characters.
    assert re.search(r"no criminal record of\s*SHAN Xiongxin", text)
    assert "record of 单雄信" not in text


def test_certificate_is_tagged_pdf_a_2b_and_validly_signed(jingba, settings, tmp_path):
    assert shutil.which("pdfinfo"), "apt-get install poppler-utils"
    settings.MEDIA_ROOT = tmp_path / "media"
    document = issue(jingba)
    data = stored_pdf(document)
    (tmp_path / "c.pdf").write_bytes(data)
    info = subprocess.run(["pdfinfo", "c.pdf"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M), info
    meta = subprocess.run(["pdfinfo", "-meta", "c.pdf"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert re.search(r"pdfaid:part[>=\"]+2", meta) and re.search(r"pdfaid:conformance[>=\"]+B", meta), meta[:2000]
    reader = PdfReader(io.BytesIO(data))
    assert "/StructTreeRoot" in reader.trailer["/Root"] and "/OutputIntents" in reader.trailer["/Root"]
    assert reader.trailer["/Root"]["/MarkInfo"]["/Marked"]
    # Still PDF 1.7 after signing (an ECDSA key would make pyHanko declare PDF 2.0, which PDF/A-2 forbids).
    assert data.startswith(b"%PDF-1.7") and str(reader.trailer["/Root"].get("/Version", "/1.7")) == "/1.7"
    # Only ETSI's PAdES extension (/ESIC, on base version 1.7), never ISO 32002's PDF 2.0 one.
    extensions = reader.trailer["/Root"].get("/Extensions", {})
    assert all(str(ext["/BaseVersion"]) == "/1.7" for ext in extensions.values()), extensions
    assert "欧阳娜娜" in text_of(data) and "OUYANG Nana" in text_of(data)
    assert pdf.check_signature(data).ok  # the signature survives the PDF/A rendering


def test_issued_certificate_is_b_lta_and_pdf_a(jingba, settings, tmp_path, lta_signing):
    settings.MEDIA_ROOT = tmp_path / "media"
    document = issue(jingba)
    data = stored_pdf(document)
    check = pdf.check_signature(data)
    assert check.ok and check.long_term
    (tmp_path / "c.pdf").write_bytes(data)
    info = subprocess.run(["pdfinfo", "c.pdf"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
