"""Helpers for the back-office tests of the no-criminal-record service: applications in a given state, uploads, keys."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from certificates.models import Application, Delivery, Reason, Status
from portal.cases.services import next_case_number
from portal.documents.services import ID_DOCUMENT_RULES, PHOTO_RULES, document_attach, document_create
from tests.factories import UserFactory


def png(size=(400, 500), colour=(70, 130, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def attach_documents(application, kinds=("id_front", "id_back", "photo")):
    documents = []
    for kind in kinds:
        rules = PHOTO_RULES if kind == "photo" else ID_DOCUMENT_RULES
        upload = SimpleUploadedFile(f"{kind}.png", png(), content_type="image/png")
        document = document_create(owner=application.applicant, uploaded_file=upload, kind=kind, rules=rules)
        documents.append(document_attach(document=document, case=application))
    return documents


def make_application(office, *, applicant=None, status=Status.SUBMITTED, documents=False, **fields) -> Application:
    """An application in `status`, the holder being the applicant, with complete answers."""
    applicant = applicant or UserFactory(language="en")  # messages to them render in English for the asserts
    values = {
        "holder_name": applicant.real_name,
        "holder_id_number": applicant.id_number or "",
        "holder_sex": applicant.sex or "",
        "holder_birth_date": applicant.birth_date,
        "reason": Reason.EMPLOYMENT,
        "receiving_organisation": "郑州某某科技有限公司",
        "delivery": Delivery.ELECTRONIC,
        "declaration_at": timezone.now(),
        "submitted_at": timezone.now() if status != Status.DRAFT else None,
    }
    values.update(fields)
    application = Application.objects.create(
        case_number=next_case_number("NCR"), applicant=applicant, office=office, status=status, **values
    )
    if documents:
        attach_documents(application)
    return application


def make_signing_keys(directory):
    """The test PKI's first signing key and certificate (with chain, roots and history) in `directory`."""
    from tests.pki import install_signer

    return install_signer(directory)
