"""Helpers of the citizen's certificate pages: portrait and ID card images, the URLs, a complete draft, submission."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageDraw

from certificates import services
from certificates.models import Application, Delivery, Reason
from portal.documents.services import document_attach, document_create
from portal.documents.validation import ID_DOCUMENT_RULES, PHOTO_RULES


def portrait(size=(400, 500), fmt="PNG"):
    """A colour portrait: blue background, skin-coloured face, dark body."""
    im = Image.new("RGB", size, (70, 130, 200))
    draw = ImageDraw.Draw(im)
    w, h = size
    draw.ellipse((w * 0.3, h * 0.15, w * 0.7, h * 0.6), fill=(225, 180, 150))
    draw.rectangle((w * 0.15, h * 0.65, w * 0.85, h), fill=(40, 40, 60))
    out = io.BytesIO()
    im.save(out, format=fmt)
    return out.getvalue()


def id_card_image():
    im = Image.new("RGB", (856, 540), (235, 240, 250))
    draw = ImageDraw.Draw(im)
    draw.rectangle((40, 40, 260, 300), fill=(200, 170, 150))
    draw.text((300, 80), "ID 4101 0519 9001 0100 1X", fill=(20, 20, 20))
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=85)
    return out.getvalue()


def upload(name, data, content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def url(name, application=None, section=None):
    if section:
        return reverse("certificates:section", kwargs={"case_number": application.case_number, "section": section})
    if application is not None:
        return reverse(f"certificates:{name}", kwargs={"case_number": application.case_number})
    return reverse(f"certificates:{name}")


def complete_draft(citizen, office, *, photo=True, for_self=True):
    """A draft with every answer given, made through the services and documents API (no views)."""
    application = services.application_create_draft(applicant=citizen, for_self=for_self, office=office)
    Application.objects.filter(pk=application.pk).update(
        reason=Reason.EMPLOYMENT, receiving_organisation="河南某科技有限公司", delivery=Delivery.ELECTRONIC
    )
    application.refresh_from_db()
    kinds = [("id_front", id_card_image()), ("id_back", id_card_image())] + ([("photo", portrait())] if photo else [])
    for kind, data in kinds:
        rules = PHOTO_RULES if kind == "photo" else ID_DOCUMENT_RULES
        document = document_create(owner=citizen, uploaded_file=upload(f"{kind}.png", data), kind=kind, rules=rules)
        document_attach(document=document, case=application)
    return application


def submit(client, application, **extra):
    return client.post(url("check", application), {"declaration": "on", **extra})
