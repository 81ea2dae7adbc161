"""Helpers of the verification tests (test_verify, test_verdict, test_pki): a blank PDF, issuing a document for a case,
looking it up by code (page and API), uploading a PDF. Their fixtures are in tests/portal/conftest.py."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfWriter

from portal import pdf as portal_pdf
from portal.verify import issuing, logbuffer

NOW = datetime.datetime(2026, 5, 6, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def blank_pdf(marker: str = "") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": f"probe {marker}"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def claim(case, generation=1, **overrides):
    fields = {
        "source": case,
        "generation": generation,
        "kind": "ncr_certificate",
        "title": "无犯罪记录证明",
        "title_en": "Certificate of No Criminal Record",
        "holder": case.applicant,
        "holder_name": case.applicant.real_name,
        "issuing_office": case.office,
        "valid_until": timezone.localdate() + datetime.timedelta(days=90),
    }
    fields.update(overrides)
    return issuing.issued_document_claim(**fields)


def issue(case, generation=1, **overrides):
    document, _ = claim(case, generation, **overrides)
    signed = portal_pdf.sign_pdf(blank_pdf(f"{case.pk}-{generation}"), reason="test")
    return issuing.issued_document_store(document=document, pdf=signed), signed


def page(client, code):
    return client.get(reverse("verify:detail", args=[code]))


def api(client, code, **headers):
    return client.get(reverse("verify:api", args=[code]), **headers)


def drained():
    """Store what the Redis buffer holds (services tier); without Redis every verification is already stored."""
    logbuffer.verification_log_drain()


def upload(client, data: bytes, name="certificate.pdf", **extra):
    file = SimpleUploadedFile(name, data, content_type="application/pdf")
    return client.post(reverse("verify:index"), {"pdf": file}, **extra)
