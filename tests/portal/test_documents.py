"""Private uploads: validation by content, re-encoding, atomic storage, and the permission-checked download."""

import datetime
import hashlib
import io
import logging
import os
import re
import struct
import time
import zlib

import pytest
import time_machine
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from PIL import Image, ImageDraw, PngImagePlugin
from pypdf import PdfWriter
from pypdf.actions import JavaScript

from portal.documents import services
from portal.documents.forms import TOKEN_SUFFIX, PrivateFileField, PrivateUploadFormMixin
from portal.documents.models import Document, DocumentAccess
from portal.documents.services import DocumentAttachError, UploadRules, document_attach, document_create
from portal.documents.validation import PHOTO_RULES
from tests.factories import SampleCaseFactory, StaffFactory, UserFactory

# --- making files -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def english():
    # The messages are asserted in English; the default language is Simplified Chinese.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def files_under(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def colour_photo(size=(400, 500), fmt="JPEG", **save):
    """A synthetic portrait: a blue background, a skin-coloured face, a dark body."""
    im = Image.new("RGB", size, (70, 130, 200))
    draw = ImageDraw.Draw(im)
    w, h = size
    draw.ellipse((w * 0.3, h * 0.15, w * 0.7, h * 0.6), fill=(225, 180, 150))
    draw.rectangle((w * 0.15, h * 0.65, w * 0.85, h), fill=(40, 40, 60))
    out = io.BytesIO()
    im.save(out, format=fmt, **save)
    return out.getvalue()


def grey_photo_as_rgb(size=(400, 500)):
    """The same portrait in black and white, but saved as an RGB JPEG (as phones do)."""
    grey = Image.open(io.BytesIO(colour_photo(size))).convert("L").convert("RGB")
    out = io.BytesIO()
    grey.save(out, format="JPEG", quality=85)
    return out.getvalue()


def grey_png(size=(400, 500)):
    out = io.BytesIO()
    Image.open(io.BytesIO(colour_photo(size))).convert("L").save(out, format="PNG")
    return out.getvalue()


def upload(data, name="file.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def bomb_png(width=50000, height=50000):
    """A tiny PNG whose header claims a huge image: signature, IHDR with a correct CRC, one IDAT, IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def pdf_bytes(js=None, attachment=None, password=None):
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if js:
        writer.add_open_action(JavaScript(js))
    if attachment:
        writer.add_attachment("note.txt", attachment)
    if password:
        writer.encrypt(password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def handmade_pdf(catalog_extra=b"", *extra_objects):
    """A one-page PDF written byte by byte (with a correct xref), for structures pypdf will not write."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        *extra_objects,
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def refused(data, name, rules=None, content_type="application/octet-stream", owner=None):
    owner = owner or UserFactory()
    with pytest.raises(ValidationError) as info:
        document_create(owner=owner, uploaded_file=upload(data, name, content_type), kind="test", rules=rules)
    return info.value


@pytest.fixture
def photo_doc(citizen):
    return document_create(owner=citizen, uploaded_file=upload(colour_photo(), "我的照片.jpg"), kind="photo")


@pytest.fixture
def attached_doc(photo_doc, citizen, station_a):
    return document_attach(document=photo_doc, case=SampleCaseFactory(applicant=citizen, office=station_a))


# --- the download view ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_owner_downloads_as_attachment_with_safe_headers(client, citizen, photo_doc):
    client.force_login(citizen)
    response = client.get(reverse("documents:download", kwargs={"public_id": photo_doc.public_id}))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename" in response["Content-Disposition"]
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Length"] == str(photo_doc.size)
    body = b"".join(response.streaming_content)
    assert body == photo_doc.file.open("rb").read()
    assert not DocumentAccess.objects.exists()  # the owner's own views are not staff access


@pytest.mark.django_db
def test_url_uses_public_uuid_not_pk(photo_doc):
    url = photo_doc.get_absolute_url()
    assert url == f"/documents/{photo_doc.public_id}/"
    assert f"/{photo_doc.pk}/" not in url


@pytest.mark.django_db
def test_another_citizen_gets_404(client, other_citizen, attached_doc):
    client.force_login(other_citizen)
    assert client.get(attached_doc.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_unknown_document_is_404_like_a_forbidden_one(client, citizen):
    client.force_login(citizen)
    assert client.get("/documents/00000000-0000-4000-8000-000000000000/").status_code == 404


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client, attached_doc):
    response = client.get(attached_doc.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_staff_of_the_office_may_view_and_the_view_is_logged(staff_client, officer_a, attached_doc, citizen, caplog):
    client = staff_client(officer_a)
    with caplog.at_level(logging.INFO, logger="portal.documents"):
        response = client.get(attached_doc.get_absolute_url(), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    access = DocumentAccess.objects.get()
    assert (access.document, access.user, access.ip, access.inline) == (attached_doc, officer_a, "10.1.2.3", False)
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.documents" and "viewed" in r.getMessage()]
    assert len(lines) == 1
    assert str(attached_doc.public_id) in lines[0] and str(officer_a.pk) in lines[0]
    assert citizen.id_number not in caplog.text


@pytest.mark.django_db
def test_staff_of_another_office_gets_404(staff_client, officer_b, attached_doc):
    assert staff_client(officer_b).get(attached_doc.get_absolute_url()).status_code == 404
    assert not DocumentAccess.objects.exists()


@pytest.mark.django_db
def test_supervisor_above_the_office_may_view(staff_client, station_a, attached_doc):
    supervisor = StaffFactory(office=station_a.parent, role="supervisor")
    assert staff_client(supervisor).get(attached_doc.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_staff_without_second_factor_gets_404(client, officer_a, attached_doc):
    client.force_login(officer_a)
    with override_settings(STAFF_MFA_REQUIRED=True):
        assert client.get(attached_doc.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_unattached_document_is_the_owners_alone(staff_client, photo_doc):
    admin_user = StaffFactory(is_superuser=True)
    assert staff_client(admin_user).get(photo_doc.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_inline_images_for_staff_only(client, staff_client, officer_a, citizen, attached_doc):
    client.force_login(citizen)
    own = client.get(attached_doc.inline_url)
    assert own["Content-Disposition"].startswith("attachment;")

    response = staff_client(officer_a).get(attached_doc.inline_url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Security-Policy"] == "sandbox"
    assert DocumentAccess.objects.get().inline is True


@pytest.mark.django_db
def test_pdf_is_never_inline(staff_client, officer_a, citizen, station_a):
    document = document_create(owner=citizen, uploaded_file=upload(pdf_bytes(), "id.pdf"), kind="id_front")
    document_attach(document=document, case=SampleCaseFactory(applicant=citizen, office=station_a))
    response = staff_client(officer_a).get(document.inline_url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"


# --- attaching ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_attach_copies_office_and_refuses_a_second_case(citizen, station_a, station_b, photo_doc):
    case = SampleCaseFactory(applicant=citizen, office=station_a)
    document_attach(document=photo_doc, case=case)
    document_attach(document=photo_doc, case=case)  # idempotent
    photo_doc.refresh_from_db()
    assert (photo_doc.case, photo_doc.office) == (case, station_a)
    assert list(services.documents_for_case(case)) == [photo_doc]
    with pytest.raises(DocumentAttachError):
        document_attach(document=photo_doc, case=SampleCaseFactory(applicant=citizen, office=station_b))
    assert services.documents_move_office(case=case, office=station_b) == 1
    photo_doc.refresh_from_db()
    assert photo_doc.office == station_b


# --- what gets stored -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_stored_under_a_random_name_outside_public_urls(citizen, media):
    document = document_create(
        owner=citizen, uploaded_file=upload(colour_photo(), "../../etc/\u202egpj.exe<b>.jpg"), kind="photo"
    )
    assert re.fullmatch(r"documents/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", document.file.name)
    stored = media / "private" / document.file.name
    assert stored.is_file()
    assert document.original_name == "gpj.exe_b_.jpg"
    assert document.mime_type == "image/jpeg"
    assert (document.width, document.height) == (400, 500)
    assert document.size == stored.stat().st_size
    assert document.sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
    with pytest.raises(ValueError):
        document.file.url  # noqa: B018 - private storage has no URL


@pytest.mark.django_db
def test_png_with_html_appended_is_accepted_but_cleaned(citizen):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(2)</script>")
    payload = colour_photo(fmt="PNG", pnginfo=info) + b"<html><script>alert(1)</script></html>"
    document = document_create(owner=citizen, uploaded_file=upload(payload, "x.png", "image/png"), kind="photo")
    stored = document.file.open("rb").read()
    assert document.mime_type == "image/png"
    assert b"<script" not in stored and b"alert" not in stored
    assert stored.endswith(png_chunk(b"IEND", b""))
    assert Image.open(io.BytesIO(stored)).size == (400, 500)


@pytest.mark.django_db
def test_jpeg_exif_and_gps_are_stripped(citizen):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (34.0, 45.0, 0.0), 3: "E", 4: (113.0, 40.0, 0.0)}  # GPS IFD: Zhengzhou
    data = colour_photo(exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the fixture really carries GPS
    document = document_create(owner=citizen, uploaded_file=upload(data), kind="photo")
    stored = document.file.open("rb").read()
    assert b"Exif" not in stored and b"PhoneMaker" not in stored
    reopened = Image.open(io.BytesIO(stored))
    assert not reopened.getexif()
    assert not reopened.getexif().get_ifd(0x8825)


@pytest.mark.django_db
def test_exif_orientation_is_applied(citizen):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = colour_photo(size=(500, 400), exif=exif.tobytes())
    document = document_create(owner=citizen, uploaded_file=upload(data), kind="photo", rules=PHOTO_RULES)
    assert (document.width, document.height) == (400, 500)
    assert Image.open(document.file.open("rb")).size == (400, 500)


# --- what gets refused -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_pixel_bomb_is_refused_from_the_header_quickly():
    started = time.perf_counter()
    error = refused(bomb_png(), "big.png", content_type="image/png")
    assert time.perf_counter() - started < 1.0
    assert error.code == "too_many_pixels"
    assert "50000 × 50000" in error.messages[0]
    assert "40 megapixels" in error.messages[0]


@pytest.mark.django_db
def test_pillow_limit_is_also_handled(settings):
    # Past our header check (a huge UPLOAD_MAX_PIXELS) Pillow's own bomb guard still answers with our message.
    error = refused(bomb_png(), "big.png", rules=UploadRules(max_pixels=10**10))
    assert error.code == "too_many_pixels"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "found"),
    [
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "a.svg",
            "SVG",
        ),
        (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "photo.jpg", "HTML"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "photo.png", "GIF"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n", "scan.pdf", "EPS"),
    ],
)
def test_other_types_are_refused_by_content(data, name, found):
    error = refused(data, name, content_type="image/jpeg")
    assert error.code == "wrong_type"
    assert found in error.messages[0]
    assert "JPEG, PNG or PDF" in error.messages[0]


@pytest.mark.django_db
def test_tiff_named_jpg_is_refused():
    out = io.BytesIO()
    Image.new("RGB", (400, 500), (200, 30, 30)).save(out, format="TIFF")
    error = refused(out.getvalue(), "photo.jpg", content_type="image/jpeg")
    assert error.code == "wrong_type"
    assert "TIFF" in error.messages[0]


@pytest.mark.django_db
def test_pdf_where_only_images_are_accepted():
    error = refused(pdf_bytes(), "photo.pdf", rules=PHOTO_RULES)
    assert error.code == "wrong_type"
    assert "upload a JPEG or PNG file" in error.messages[0]


@pytest.mark.django_db
@pytest.mark.parametrize("make", [grey_photo_as_rgb, grey_png], ids=["grey-photo-saved-as-rgb", "mode-L-png"])
def test_greyscale_photo_is_refused_for_a_colour_rule(make):
    error = refused(make(), "photo.jpg", rules=PHOTO_RULES)
    assert error.code == "greyscale"
    assert "colour" in error.messages[0]


@pytest.mark.django_db
def test_colour_photo_passes_the_photo_rules(citizen):
    document = document_create(owner=citizen, uploaded_file=upload(colour_photo()), kind="photo", rules=PHOTO_RULES)
    assert (document.width, document.height) == (400, 500)


def _jpeg(im) -> bytes:
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=88)
    return out.getvalue()


def grey_with(decorate, size=(400, 500)) -> bytes:
    """The black-and-white portrait with something coloured drawn on it by `decorate(draw, width, height)`."""
    im = Image.open(io.BytesIO(grey_photo_as_rgb(size))).convert("RGB")
    decorate(ImageDraw.Draw(im), *size)
    return _jpeg(im)


def thin_red_frame(draw, w, h):
    draw.rectangle((0, 0, w - 1, h - 1), outline=(220, 20, 20), width=6)  # about 5 % of the pixels


def coloured_side_bands(draw, w, h):
    draw.rectangle((0, 0, int(w * 0.18), h), fill=(30, 90, 220))
    draw.rectangle((int(w * 0.82), 0, w, h), fill=(30, 90, 220))


def date_imprint_in_a_corner(draw, w, h):
    draw.rectangle((int(w * 0.82), int(h * 0.9), w - 4, h - 4), fill=(255, 140, 0))


def small_red_seal_in_the_middle(draw, w, h):
    draw.ellipse((w * 0.45, h * 0.45, w * 0.5, h * 0.5), fill=(230, 0, 0))  # under 1 % of the centre


GREY_IN_COLOUR = {
    "thin_red_frame": thin_red_frame,
    "coloured_side_bands": coloured_side_bands,
    "date_imprint_in_a_corner": date_imprint_in_a_corner,
    "small_red_seal_in_the_middle": small_red_seal_in_the_middle,
}


@pytest.mark.django_db
@pytest.mark.parametrize("decorate", GREY_IN_COLOUR.values(), ids=GREY_IN_COLOUR.keys())
def test_black_and_white_photo_with_colour_only_around_it_is_refused(decorate):
    data = grey_with(decorate)
    im = Image.open(io.BytesIO(data)).convert("RGB")
    raw = im.tobytes()
    pixels = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    coloured = sum(1 for p in pixels if max(p) - min(p) > 16) / len(pixels)
    if decorate is thin_red_frame:
        assert coloured > 0.02, "the frame alone made the whole photo count as colour before"
    error = refused(data, "photo.jpg", rules=PHOTO_RULES)
    assert error.code == "greyscale"


def pale_portrait_on_white() -> bytes:
    """A real-looking colour photo with little colour: white background, pale skin, dark grey clothes."""
    im = Image.new("RGB", (400, 500), (246, 246, 246))
    draw = ImageDraw.Draw(im)
    draw.ellipse((150, 90, 250, 230), fill=(238, 214, 198))  # pale skin, channels 40 apart
    draw.rectangle((150, 70, 250, 110), fill=(30, 30, 30))  # black hair
    draw.rectangle((90, 300, 310, 500), fill=(70, 70, 74))  # dark clothes
    return _jpeg(im)


@pytest.mark.django_db
@pytest.mark.parametrize("make", [colour_photo, pale_portrait_on_white], ids=["blue_background", "pale_on_white"])
def test_real_colour_photo_still_passes_the_colour_rule(citizen, make):
    document = document_create(owner=citizen, uploaded_file=upload(make()), kind="photo", rules=PHOTO_RULES)
    assert document.width == 400


@pytest.mark.django_db
def test_greyscale_is_fine_where_colour_is_not_required(citizen):
    document = document_create(owner=citizen, uploaded_file=upload(grey_photo_as_rgb()), kind="id_front")
    assert document.mime_type == "image/jpeg"


@pytest.mark.django_db
def test_too_small_photo_is_refused():
    error = refused(colour_photo(size=(300, 400)), "small.jpg", rules=PHOTO_RULES)
    assert error.code == "too_small"
    assert "300 × 400" in error.messages[0] and "358 × 441" in error.messages[0]


@pytest.mark.django_db
def test_landscape_photo_is_refused():
    error = refused(colour_photo(size=(600, 450)), "wide.jpg", rules=PHOTO_RULES)
    assert error.code == "not_portrait"


@pytest.mark.django_db
def test_oversize_file_is_refused_with_the_limit():
    data = colour_photo(fmt="PNG") + b"\x00" * (1024 * 1024)
    error = refused(data, "big.png", rules=UploadRules(max_bytes=1024 * 1024))
    assert error.code == "too_large"
    assert "the limit is 1 MB" in error.messages[0]


@pytest.mark.django_db
def test_empty_and_truncated_files_are_refused():
    assert refused(b"", "x.jpg").code == "empty"
    assert refused(colour_photo()[:600], "cut.jpg").code == "damaged"
    assert refused(colour_photo(fmt="PNG")[:200], "cut.png").code == "damaged"
    assert refused(b"%PDF-1.7\nthis is not a pdf at all\n", "fake.pdf").code == "damaged"


@pytest.mark.django_db
def test_truncated_images_are_refused_even_after_weasyprint_was_imported():
    import weasyprint  # noqa: F401 - it turns Pillow's LOAD_TRUNCATED_IMAGES on for the whole process
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    assert refused(colour_photo()[:600], "cut.jpg").code == "damaged"
    assert refused(colour_photo(fmt="PNG")[:2000], "cut.png").code == "damaged"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True, "WeasyPrint's setting is restored for its own images"


@pytest.mark.django_db
def test_valid_pdf_is_accepted_unchanged(citizen):
    data = pdf_bytes()
    document = document_create(
        owner=citizen, uploaded_file=upload(data, "护照.pdf", "application/pdf"), kind="id_front"
    )
    assert document.mime_type == "application/pdf"
    assert document.file.name.endswith(".pdf")
    assert document.file.open("rb").read() == data
    assert document.width is None


@pytest.mark.django_db
def test_pdf_with_javascript_is_refused():
    error = refused(pdf_bytes(js="app.alert('hi');"), "id.pdf")
    assert error.code == "active_content"


@pytest.mark.django_db
def test_pdf_with_hidden_javascript_name_is_refused():
    # /J#61vaScript is /JavaScript to a reader, but not to a byte search.
    data = handmade_pdf(b"/OpenAction 4 0 R", b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>")
    assert b"/JavaScript" not in data
    assert refused(data, "id.pdf").code == "active_content"


@pytest.mark.django_db
def test_pdf_opening_at_a_page_is_accepted(citizen):
    # LibreOffice and others write /OpenAction [page /XYZ …]: a destination, not an action.
    data = handmade_pdf(b"/OpenAction [3 0 R /Fit]")
    document = document_create(owner=citizen, uploaded_file=upload(data, "scan.pdf"), kind="id_front")
    assert document.mime_type == "application/pdf"


@pytest.mark.django_db
def test_pdf_with_embedded_file_or_encryption_is_refused():
    assert refused(pdf_bytes(attachment=b"MZ payload"), "id.pdf").code == "active_content"
    assert refused(pdf_bytes(password="secret"), "id.pdf").code == "encrypted"


# --- no partial state ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_refusal_leaves_no_file_and_no_row(media):
    refused(bomb_png(), "big.png")
    refused(grey_photo_as_rgb(), "grey.jpg", rules=PHOTO_RULES)
    assert files_under(media) == []
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_database_failure_after_writing_removes_the_file(citizen, media, monkeypatch):
    def broken_create(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Document.objects, "create", broken_create)
    with pytest.raises(RuntimeError):
        document_create(owner=citizen, uploaded_file=upload(colour_photo()), kind="photo")
    assert files_under(media) == []
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_failed_write_leaves_no_temporary_file(citizen, media, monkeypatch):
    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("portal.documents.storage.os.replace", failing_replace)
    with pytest.raises(ValidationError) as info:  # a message for the citizen, not an error page
        document_create(owner=citizen, uploaded_file=upload(colour_photo()), kind="photo")
    assert info.value.code == "not_stored"
    assert files_under(media) == []
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_the_purge_removes_what_killed_writers_left_but_never_a_write_in_progress(citizen, media):
    document_create(owner=citizen, uploaded_file=upload(colour_photo()), kind="photo")  # creates the folders
    partial = media / "private" / ".partial"
    stale, fresh = partial / ".issued-dead.part", partial / ".upload-now.part"
    stale.write_bytes(b"%PDF-1.7 half")  # a worker killed mid-write an hour and more ago
    fresh.write_bytes(b"\xff\xd8 being written")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    assert services.documents_purge_partial_files() == 1
    assert sorted(p.name for p in partial.iterdir()) == [fresh.name]
    assert len(files_under(media / "private" / "documents")) == 1  # the stored upload is untouched


@pytest.mark.django_db
def test_purge_removes_only_old_unattached_uploads(citizen, attached_doc, media, django_capture_on_commit_callbacks):
    with time_machine.travel(datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)):
        old = document_create(owner=citizen, uploaded_file=upload(colour_photo()), kind="photo")
    old_path = media / "private" / old.file.name
    Document.objects.filter(pk=attached_doc.pk).update(created_at=old.created_at)
    fresh = document_create(owner=citizen, uploaded_file=upload(colour_photo()), kind="photo")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.documents_purge_unattached() == 1
    assert not old_path.exists()
    assert set(Document.objects.values_list("pk", flat=True)) == {attached_doc.pk, fresh.pk}


# --- the form field -------------------------------------------------------------------------------------


class PhotoForm(PrivateUploadFormMixin, forms.Form):
    name = forms.CharField()
    photo = PrivateFileField(rules=PHOTO_RULES, kind="photo")


@pytest.mark.django_db
def test_form_shows_the_specific_error_next_to_the_field(citizen):
    form = PhotoForm({"name": "x"}, {"photo": upload(grey_photo_as_rgb())}, owner=citizen)
    assert not form.is_valid()
    assert list(form.errors) == ["photo"]
    assert form.errors.as_data()["photo"][0].code == "greyscale"
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_form_keeps_a_validated_upload_when_another_field_fails(citizen, other_citizen):
    form = PhotoForm({"name": ""}, {"photo": upload(colour_photo(), "me.jpg")}, owner=citizen)
    assert not form.is_valid()
    assert list(form.errors) == ["name"]
    document = Document.objects.get()
    html = str(form["photo"])
    assert "Already uploaded: me.jpg" in html
    token = re.search(rf'name="photo{TOKEN_SUFFIX}" value="([^"]+)"', html).group(1)
    assert 'type="file"' in html and "required" not in html

    again = PhotoForm({"name": "张三", f"photo{TOKEN_SUFFIX}": token}, {}, owner=citizen)
    assert again.is_valid(), again.errors
    assert again.cleaned_data["photo"] == document
    assert Document.objects.count() == 1

    # The token is scoped to its owner and to the field's kind.
    stolen = PhotoForm({"name": "李四", f"photo{TOKEN_SUFFIX}": token}, {}, owner=other_citizen)
    assert not stolen.is_valid()
    assert stolen.errors.as_data()["photo"][0].code == "expired"

    class IdForm(PrivateUploadFormMixin, forms.Form):
        photo = PrivateFileField(kind="id_front")

    assert not IdForm({f"photo{TOKEN_SUFFIX}": token}, {}, owner=citizen).is_valid()


@pytest.mark.django_db
def test_form_requires_a_file(citizen):
    form = PhotoForm({"name": "x"}, {}, owner=citizen)
    assert not form.is_valid()
    assert form.errors.as_data()["photo"][0].code == "required"


def test_field_help_text_follows_the_rules():
    assert str(PhotoForm.base_fields["photo"].help_text) == "JPEG or PNG, at most 5 MB."
    assert str(PrivateFileField(kind="id_front").help_text) == "JPEG, PNG or PDF, at most 10 MB."


@pytest.mark.django_db
def test_field_renders_through_crispy(citizen):
    from crispy_forms.utils import render_crispy_form

    form = PhotoForm({"name": ""}, {"photo": upload(colour_photo(), "me.jpg")}, owner=citizen)
    form.is_valid()
    html = render_crispy_form(form)
    assert f'name="photo{TOKEN_SUFFIX}"' in html
    assert 'accept="image/jpeg,.jpg,.jpeg,image/png,.png"' in html


# --- admin ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_lists_only_documents_of_the_staff_office(staff_client, officer_a, citizen, station_b, attached_doc):
    elsewhere = document_create(owner=citizen, uploaded_file=upload(colour_photo()), kind="photo")
    document_attach(document=elsewhere, case=SampleCaseFactory(applicant=citizen, office=station_b))
    client = staff_client(officer_a)
    response = client.get(reverse("admin:documents_document_changelist"))
    assert response.status_code == 200
    assert str(attached_doc.public_id) in response.text
    assert str(elsewhere.public_id) not in response.text
    assert attached_doc.get_absolute_url() in response.text
    assert client.get(reverse("admin:documents_document_change", args=[elsewhere.pk])).status_code == 404
    detail = client.get(reverse("admin:documents_document_change", args=[attached_doc.pk]))
    assert detail.status_code == 200
    assert attached_doc.inline_url in detail.text
    assert client.get(reverse("admin:documents_document_add")).status_code == 403


@pytest.mark.django_db
def test_admin_list_query_count_does_not_grow_with_rows(staff_client, officer_a, citizen, station_a):
    def add_documents(n):
        for _ in range(n):
            document = document_create(owner=citizen, uploaded_file=upload(colour_photo()), kind="photo")
            document_attach(document=document, case=SampleCaseFactory(applicant=citizen, office=station_a))

    def count_queries():
        with CaptureQueriesContext(connection) as context:
            response = client.get(reverse("admin:documents_document_changelist"))
        assert response.status_code == 200
        return len(context.captured_queries)

    client = staff_client(officer_a)
    add_documents(1)
    client.get(reverse("admin:documents_document_changelist"))  # warm the session and content types
    one = count_queries()
    add_documents(6)
    assert count_queries() == one


@pytest.mark.django_db
def test_access_log_admin_is_for_administrators(staff_client, officer_a, attached_doc):
    url = reverse("admin:documents_documentaccess_changelist")
    assert staff_client(officer_a).get(url).status_code == 403
    administrator = StaffFactory(role="administrator")
    client = staff_client(administrator)
    client.get(attached_doc.get_absolute_url())
    assert client.get(url).status_code == 200
    access = DocumentAccess.objects.get()
    assert client.get(reverse("admin:documents_documentaccess_change", args=[access.pk])).status_code == 200
    assert client.get(reverse("admin:documents_documentaccess_delete", args=[access.pk])).status_code == 403
