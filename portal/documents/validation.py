"""Decide what an upload really is, check it against the rules and re-encode images: pure functions, no database."""

import contextlib
import io
import logging
import re
import struct
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger("portal.documents")

MB = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "pdf": "pdf"}
ACCEPTED_LABELS = {"jpeg": "JPEG", "png": "PNG", "pdf": "PDF"}

# What a refused file turned out to be, for the "This file is a …" message.
FOUND_LABELS = {
    "jpeg": gettext_lazy("JPEG image"),
    "png": gettext_lazy("PNG image"),
    "pdf": gettext_lazy("PDF document"),
    "gif": gettext_lazy("GIF image"),
    "tiff": gettext_lazy("TIFF image"),
    "bmp": gettext_lazy("BMP image"),
    "webp": gettext_lazy("WebP image"),
    "heic": gettext_lazy("HEIC/HEIF photo"),
    "avif": gettext_lazy("AVIF image"),
    "svg": gettext_lazy("SVG drawing"),
    "html": gettext_lazy("web page (HTML)"),
    "xml": gettext_lazy("XML file"),
    "eps": gettext_lazy("PostScript/EPS file"),
    "zip": gettext_lazy("ZIP archive or Office document"),
    "ole": gettext_lazy("Microsoft Office document"),
    "rtf": gettext_lazy("RTF document"),
    "exe": gettext_lazy("program"),
    "text": gettext_lazy("text file"),
}

# A pixel counts as coloured when its channels differ by more than this; a photo is grey when fewer than
# GREY_MAX_COLOURED of the pixels of its central region (GREY_CENTRE of the width and of the height, around the
# middle, downscaled) are coloured. JPEG noise in a grey photo stays well under the tolerance; a face, a blue
# background or clothes are far above it. Only the centre is judged: a grey photo in a thin red frame, with coloured
# bands at the sides or a camera's orange date imprint in a corner is still a black-and-white photo.
GREY_TOLERANCE = 16
GREY_MAX_COLOURED = 0.05
GREY_CENTRE = 0.6

# What a PDF may not carry (docs/security.md, "Uploads: what is refused and why"): anything a viewer runs, opens,
# fetches or sends by itself or on a click. Officers open these files on office PCs; a link or a remote go-to on a
# UNC path (\\\\host\\share) leaks the Windows credentials of whoever opens it, a script runs in the viewer.
# Long names only in the byte scan: a short one such as /JS or /URI turns up by chance inside compressed streams.
# The structural walk below sees every name, including /JS, /AA, /XFA and #-escaped spellings.
PDF_RAW_ACTIVE = re.compile(
    rb"/(?:JavaScript|Launch|EmbeddedFiles?|RichMedia[A-Za-z]*|SubmitForm|ImportData|GoToR|GoToE|Rendition|Movie"
    rb"|Sound)(?![A-Za-z0-9])"
)
# Keys whose mere presence is refused: scripts, additional actions (/AA: on page open or close, on a field's focus,
# on printing …), XFA forms (with their own scripting), attached files, multimedia, URI bases.
PDF_ACTIVE_KEYS = {
    "/JavaScript",
    "/JS",
    "/AA",
    "/XFA",
    "/Launch",
    "/URI",
    "/EmbeddedFile",
    "/EmbeddedFiles",
    "/EF",
    "/RichMedia",
    "/RichMediaContent",
    "/RichMediaSettings",
    "/Collection",
}
# Action types (/S) refused wherever the action sits: a link annotation, a form field, /OpenAction, /Next chains.
PDF_ACTIVE_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/URI",
    "/GoToR",
    "/GoToE",
    "/Thread",
    "/SubmitForm",
    "/ImportData",
    "/Rendition",
    "/Sound",
    "/Movie",
    "/RichMediaExecute",
    "/GoTo3DView",
}
# Annotation types (/Subtype) that play, attach or run something.
PDF_ACTIVE_ANNOTATIONS = {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
PDF_MAX_OBJECTS = 200_000


@dataclass(frozen=True)
class UploadRules:
    """What a service accepts for one upload. `max_pixels=None` means settings.UPLOAD_MAX_PIXELS."""

    allowed: tuple = ("jpeg", "png", "pdf")
    max_bytes: int = 10 * MB
    min_width: int | None = None
    min_height: int | None = None
    require_portrait: bool = False
    require_colour: bool = False
    max_pixels: int | None = None

    def __post_init__(self):
        unknown = set(self.allowed) - set(MIME_TYPES)
        if unknown or not self.allowed:
            raise ValueError(f"UploadRules.allowed must be a non-empty subset of {sorted(MIME_TYPES)}: {unknown}")

    @property
    def pixel_limit(self) -> int:
        return self.max_pixels if self.max_pixels is not None else settings.UPLOAD_MAX_PIXELS

    @property
    def accepts_images(self) -> bool:
        return bool({"jpeg", "png"} & set(self.allowed))


# The no-criminal-record uploads (docs/services.md#certificate-of-no-criminal-record): ID card or passport page; the
# bareheaded colour photo.
ID_DOCUMENT_RULES = UploadRules()
PHOTO_RULES = UploadRules(
    allowed=("jpeg", "png"),
    max_bytes=5 * MB,
    min_width=358,
    min_height=441,
    require_portrait=True,
    require_colour=True,
)


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the rules, ready to store: `data` is the re-encoded image or the PDF as sent."""

    data: bytes
    format: str
    width: int | None = None
    height: int | None = None

    @property
    def mime_type(self):
        return MIME_TYPES[self.format]

    @property
    def extension(self):
        return EXTENSIONS[self.format]


def accepted_list(allowed) -> str:
    """ "JPEG, PNG or PDF" in the active language."""
    labels = [ACCEPTED_LABELS[f] for f in allowed]
    if len(labels) == 1:
        return labels[0]
    return _("%(list)s or %(last)s") % {"list": ", ".join(labels[:-1]), "last": labels[-1]}


def _mb(n: int) -> str:
    value = n / MB
    return f"{value:.1f}".rstrip("0").rstrip(".") if value < 100 else f"{value:.0f}"


# --- errors ------------------------------------------------------------------------------------------


def _wrong_type(found: str, rules: UploadRules) -> ValidationError:
    allowed = accepted_list(rules.allowed)
    if found in FOUND_LABELS:
        message = _("This file is a %(found)s; upload a %(allowed)s file.") % {
            "found": FOUND_LABELS[found],
            "allowed": allowed,
        }
    else:
        message = _("This type of file is not accepted; upload a %(allowed)s file.") % {"allowed": allowed}
    return ValidationError(message, code="wrong_type", params={"found": found})


def _damaged() -> ValidationError:
    return ValidationError(
        _("This file is damaged or incomplete and cannot be read. Save or scan it again and upload the new file."),
        code="damaged",
    )


def _too_many_pixels(width, height, rules) -> ValidationError:
    return ValidationError(
        _(
            "This image is %(width)s × %(height)s pixels, more than the %(limit)s megapixels accepted. "
            "Reduce its size and upload it again."
        )
        % {"width": width, "height": height, "limit": _mb_pixels(rules.pixel_limit)},
        code="too_many_pixels",
    )


def _mb_pixels(n):
    return f"{n / 1_000_000:.1f}".rstrip("0").rstrip(".")


# --- what is it? -----------------------------------------------------------------------------------


def sniff(head: bytes) -> str:
    """The format named by the first bytes, or "" when unknown. Never looks at a name or a browser's claim."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "avif" if head[8:12] in (b"avif", b"avis") else "heic"
    if head.startswith(b"%!PS") or head.startswith(b"\xc5\xd0\xd3\xc6"):
        return "eps"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(b"MZ"):
        return "exe"
    if head.startswith(b"BM") and len(head) >= 26 and head[6:10] == b"\x00\x00\x00\x00":
        return "bmp"
    return _sniff_text(head)


def _sniff_text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("utf-8", errors="ignore")
    text = text.lstrip("\ufeff \t\r\n").lower()
    if not text:
        return ""
    if text.startswith("<"):
        if "<svg" in text or "<!doctype svg" in text:
            return "svg"
        if text.startswith("<?xml") and "<html" not in text:
            return "xml"
        return "html"
    if "<html" in text or "<script" in text or "<svg" in text:
        return "svg" if "<svg" in text else "html"
    if "\x00" not in text and sum(ch.isprintable() or ch in "\r\n\t" for ch in text) > 0.95 * len(text):
        return "text"
    return ""


def header_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """Width and height from the PNG IHDR or the JPEG frame header, read without decoding anything."""
    if fmt == "png":
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        return struct.unpack(">II", data[16:24])
    if fmt == "jpeg":
        pos = 2
        while pos + 4 <= len(data):
            if data[pos] != 0xFF:
                return None
            marker = data[pos + 1]
            if marker == 0xFF:  # fill byte
                pos += 1
                continue
            if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
                pos += 2
                continue
            (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                if pos + 9 > len(data):
                    return None
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return width, height
            if length < 2:
                return None
            pos += 2 + length
        return None
    return None


# --- the checks ----------------------------------------------------------------------------------------


def read_upload(uploaded_file, rules: UploadRules) -> bytes:
    """The bytes of the upload, refusing an empty or too large file before reading more than the limit."""
    limit_message = _("This file is %(size)s MB; the limit is %(limit)s MB.")
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > rules.max_bytes:
        raise ValidationError(limit_message % {"size": _mb(size), "limit": _mb(rules.max_bytes)}, code="too_large")
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    data = uploaded_file.read(rules.max_bytes + 1)
    if len(data) > rules.max_bytes:
        raise ValidationError(
            limit_message % {"size": _mb(max(size or 0, len(data))), "limit": _mb(rules.max_bytes)}, code="too_large"
        )
    if not data:
        raise ValidationError(_("This file is empty."), code="empty")
    return data


def check_upload(uploaded_file, rules: UploadRules) -> CheckedFile:
    """Validate an upload against `rules`; images come back re-encoded. Raises ValidationError with a code."""
    data = read_upload(uploaded_file, rules)
    fmt = sniff(data[:2048])
    if fmt not in rules.allowed:
        raise _wrong_type(fmt, rules)
    if fmt == "pdf":
        check_pdf(data)
        return CheckedFile(data=data, format="pdf")
    return reencode_image(data, fmt, rules)


def reencode_image(data: bytes, fmt: str, rules: UploadRules) -> CheckedFile:
    from PIL import Image, ImageOps

    # The header first: a 50000×50000 PNG is a few dozen bytes and would need gigabytes decoded.
    size = header_size(data, fmt)
    if size is None:
        raise _damaged()
    if size[0] * size[1] > rules.pixel_limit:
        raise _too_many_pixels(size[0], size[1], rules)
    if size[0] == 0 or size[1] == 0:
        raise _damaged()
    pil_format = {"jpeg": "JPEG", "png": "PNG"}[fmt]
    try:
        im: Image.Image = Image.open(io.BytesIO(data), formats=[pil_format])
        if im.width * im.height > rules.pixel_limit:
            raise _too_many_pixels(im.width, im.height, rules)
        with _truncated_images_refused():
            im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limit (with warnings raised as errors, the warning too): still the pixel message.
        raise _too_many_pixels(size[0], size[1], rules) from None
    except ValidationError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError) as exc:
        logger.info("upload refused as damaged: %s", exc.__class__.__name__)
        raise _damaged() from None

    try:
        im = ImageOps.exif_transpose(im)
    except Exception as exc:  # noqa: BLE001 - a malformed EXIF block must not refuse a readable photo
        logger.info("ignoring unreadable EXIF orientation: %s", exc.__class__.__name__)

    im = _normalise_mode(im, fmt)
    width, height = im.size
    if (rules.min_width and width < rules.min_width) or (rules.min_height and height < rules.min_height):
        raise ValidationError(
            _("This image is %(width)s × %(height)s pixels; it must be at least %(min_width)s × %(min_height)s pixels.")
            % {
                "width": width,
                "height": height,
                "min_width": rules.min_width or 1,
                "min_height": rules.min_height or 1,
            },
            code="too_small",
        )
    if rules.require_portrait and height <= width:
        raise ValidationError(
            _(
                "This photo is in landscape or square format (%(width)s × %(height)s); upload a portrait photo, taller than it is wide."
            )
            % {"width": width, "height": height},
            code="not_portrait",
        )
    if rules.require_colour and is_greyscale(im):
        raise ValidationError(_("This photo is black and white (greyscale); upload a colour photo."), code="greyscale")

    # A fresh encoding keeps only pixels: no EXIF (GPS), no text chunks, no ICC or XMP, nothing appended.
    im.info = {}
    out = io.BytesIO()
    if fmt == "jpeg":
        im.save(out, format="JPEG", quality=90)
    else:
        im.save(out, format="PNG", compress_level=6)
    return CheckedFile(data=out.getvalue(), format=fmt, width=width, height=height)


_PIL_TRUNCATION_LOCK = threading.Lock()


@contextlib.contextmanager
def _truncated_images_refused() -> Iterator[None]:
    """Decode with Pillow's LOAD_TRUNCATED_IMAGES off. WeasyPrint turns it on for the whole process when it is
    imported (any PDF rendered in a web or worker process), after which a cut-off upload would decode silently,
    its missing part filled with grey, and be stored as a photo."""
    from PIL import ImageFile

    with _PIL_TRUNCATION_LOCK:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


def _normalise_mode(im, fmt):
    if im.mode == "P" or im.mode == "PA":
        im = im.convert("RGBA" if (im.mode == "PA" or "transparency" in im.info) else "RGB")
    elif im.mode in ("1", "I", "F") or im.mode.startswith("I;16"):
        im = im.convert("L")
    elif im.mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGB")  # CMYK, YCbCr, LAB …
    if fmt == "jpeg" and im.mode not in ("L", "RGB"):
        im = im.convert("RGB")
    return im


def is_greyscale(im: Any) -> bool:
    """A grey image: a grey mode, or colour channels that (almost) never differ in the central region of the photo,
    as in a grey photo saved as RGB, with or without a coloured frame, border or corner imprint around it."""
    from PIL import ImageChops

    if im.mode in ("1", "L", "LA", "I", "F") or im.mode.startswith("I;16"):
        return True
    small = im.convert("RGB")
    small.thumbnail((256, 256))
    margin = (1 - GREY_CENTRE) / 2
    width, height = small.size
    centre = small.crop(
        (
            int(width * margin),
            int(height * margin),
            max(int(width * (1 - margin)), int(width * margin) + 1),
            max(int(height * (1 - margin)), int(height * margin) + 1),
        )
    )
    r, g, b = centre.split()
    spread = ImageChops.lighter(
        ImageChops.lighter(ImageChops.difference(r, g), ImageChops.difference(g, b)), ImageChops.difference(r, b)
    )
    histogram = spread.histogram()
    coloured = sum(histogram[GREY_TOLERANCE + 1 :])
    return coloured < GREY_MAX_COLOURED * centre.width * centre.height


def _pdf_active_content() -> ValidationError:
    return ValidationError(
        _(
            "This PDF contains scripts, links, automatic actions, a form with its own program (XFA) or attached "
            "files, which are not accepted. Open it and print it to a new, plain PDF (“Print to PDF”), or upload "
            "a photo or scan of the paper document instead."
        ),
        code="active_content",
    )


def _pdf_is_active(name: object, value: object) -> bool:
    """Whether one entry of a PDF dictionary (name → value, value already resolved) makes the file active."""
    if name in PDF_ACTIVE_KEYS:
        return True
    if name == "/S" and value in PDF_ACTIVE_ACTIONS:
        return True
    if name == "/Subtype" and value in PDF_ACTIVE_ANNOTATIONS:
        return True
    if name == "/FS" and value == "/URL":  # a file specification that names a web address
        return True
    # An action run on opening, of any kind; a plain destination array (open at page 1, fit) is no action.
    return name == "/OpenAction" and isinstance(value, dict)  # pypdf's DictionaryObject is a dict


def check_pdf(data: bytes) -> None:
    """Accept a PDF that parses, is not encrypted and carries no scripts, actions, links, XFA or attached files.

    Two layers: a byte scan for the long names (cheap, and it also sees what a lenient viewer might find that
    pypdf's parse does not), then a walk of every object pypdf reads, reachable from the trailer or only listed in
    the cross-reference tables (objects in object streams included; pypdf decodes #-escaped names).
    """
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    if not data.startswith(b"%PDF-"):
        raise _damaged()
    if PDF_RAW_ACTIVE.search(data):
        raise _pdf_active_content()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ValidationError(
                _("This PDF is encrypted or password-protected; upload a copy without a password."), code="encrypted"
            )
        if len(reader.pages) == 0:
            raise _damaged()
        seen: set[tuple[int, int]] = set()
        stack: list[object] = [reader.trailer]
        # Objects no page or catalog points to are walked too: a viewer that repairs a file may still find them.
        for generation, numbers in getattr(reader, "xref", {}).items():
            stack.extend(IndirectObject(number, generation, reader) for number in numbers)
        stack.extend(IndirectObject(number, 0, reader) for number in getattr(reader, "xref_objStm", {}))
        visited = 0
        while stack:
            obj = stack.pop()
            if isinstance(obj, IndirectObject):
                key = (obj.idnum, obj.generation)
                if key in seen:
                    continue
                seen.add(key)
                obj = obj.get_object()
            visited += 1
            if visited > PDF_MAX_OBJECTS:
                raise _damaged()
            if isinstance(obj, DictionaryObject):
                for name, value in obj.items():
                    resolved = value.get_object() if isinstance(value, IndirectObject) else value
                    if _pdf_is_active(name, resolved):
                        raise _pdf_active_content()
                    stack.append(value)
            elif isinstance(obj, ArrayObject):
                stack.extend(obj)
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds of error on hostile input
        logger.info("PDF refused as damaged: %s", exc.__class__.__name__)
        raise _damaged() from None


def clean_original_name(name) -> str:
    """The citizen's file name, for display only: no path, no control or direction characters, bounded length."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    name = re.sub(r'[<>:"|?*]+', "_", name).strip(" .")
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 120 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 8 else name[:120]
    return name or "upload"


__all__ = [
    "ID_DOCUMENT_RULES",
    "PHOTO_RULES",
    "CheckedFile",
    "UploadRules",
    "check_upload",
    "clean_original_name",
]
