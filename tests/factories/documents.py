"""Uploaded documents for cases: a small PNG, and the documents attached to a case as its applicant uploads them."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from portal.documents.services import ID_DOCUMENT_RULES, PHOTO_RULES, document_attach, document_create


def png(size=(400, 500), colour=(70, 130, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def certificate_rules(kind):
    """The no-criminal-record upload rules: a photo is checked as a portrait, the rest as ID documents."""
    return PHOTO_RULES if kind == "photo" else ID_DOCUMENT_RULES


def attach_documents(application, kinds=("id_front", "id_back", "photo"), rules=certificate_rules):
    """Upload one PNG per kind as the applicant and attach it to `application`; `rules(kind)` checks each upload."""
    documents = []
    for kind in kinds:
        upload = SimpleUploadedFile(f"{kind}.png", png(), content_type="image/png")
        document = document_create(owner=application.applicant, uploaded_file=upload, kind=kind, rules=rules(kind))
        documents.append(document_attach(document=document, case=application))
    return documents
