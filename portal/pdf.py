"""Templates to PDF (WeasyPrint), QR codes, the drawn e-seal and PAdES signatures (pyHanko)."""

from __future__ import annotations

import base64
import datetime
import functools
import logging
import math
import mimetypes
import os
import posixpath
import re
from dataclasses import dataclass
from html import escape
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation
from django.utils._os import safe_join

logger = logging.getLogger(__name__)

# Templates link their assets relative to this origin. ".invalid" can never resolve (RFC 2606), and the fetcher
# maps <origin>/static/<path> to the portal's own static files; nothing else is ever read.
PDF_BASE_URL = "https://portal.invalid/"


class FetchRefused(ValueError):
    """A PDF template asked for a resource outside the portal's static files and data: URIs."""


@dataclass(frozen=True)
class FetchedResource:
    url: str
    data: bytes
    mime_type: str


def static_path_for_url(url: str) -> Path:
    """The file behind <PDF_BASE_URL><STATIC_URL><path>, found like collectstatic would; FetchRefused otherwise."""
    parts = urlsplit(url)
    origin = urlsplit(PDF_BASE_URL)
    if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
        raise FetchRefused(f"not a portal static URL: {url[:200]}")
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    path = unquote(parts.path)
    if not path.startswith(prefix):
        raise FetchRefused(f"not under {prefix}: {url[:200]}")
    relative = path[len(prefix) :]
    # Refuse traversal before any lookup: "..", empty segments, backslashes and NULs never name a static file.
    segments = relative.split("/")
    if not relative or "\\" in relative or "\x00" in relative or any(s in ("", ".", "..") for s in segments):
        raise FetchRefused(f"bad static path: {url[:200]}")
    normalised = posixpath.normpath(relative)
    found = finders.find(normalised)
    if isinstance(found, list):  # find(all=True) style answer
        found = found[0] if found else None
    if not found and settings.STATIC_ROOT:
        try:
            candidate = safe_join(str(settings.STATIC_ROOT), normalised)
        except Exception as exc:  # SuspiciousFileOperation
            raise FetchRefused(f"bad static path: {url[:200]}") from exc
        found = candidate if os.path.isfile(candidate) else None
    if not found:
        raise FetchRefused(f"no such static file: {url[:200]}")
    return Path(found)


def _read_file(path: Path) -> bytes:
    # The one place the fetcher touches the disk (tests spy on it).
    return path.read_bytes()


def _decode_data_uri(url: str) -> FetchedResource:
    header, sep, payload = url[5:].partition(",")
    if not sep:
        raise FetchRefused("malformed data: URI")
    params = header.split(";")
    mime_type = params[0] or "text/plain"
    if params[-1].lower() == "base64":
        data = base64.b64decode(payload, validate=False)
    else:
        data = unquote_to_bytes(payload)
    return FetchedResource(url=url, data=data, mime_type=mime_type)


def fetch_resource(url: str) -> FetchedResource:
    """What WeasyPrint may load: data: URIs and the portal's static files; anything else raises FetchRefused."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "data":
        return _decode_data_uri(url)
    path = static_path_for_url(url)
    mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FetchedResource(url=url, data=_read_file(path), mime_type=mime_type)


@functools.cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class PortalURLFetcher(URLFetcher):
        """WeasyPrint's fetcher with every network and file handler replaced by fetch_resource()."""

        def __init__(self):
            super().__init__(allowed_protocols=("data", "https"), allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            try:
                resource = fetch_resource(url)
            except FetchRefused:
                self.refused.append(url)
                logger.warning("PDF rendering refused to fetch %s", url[:200])
                raise
            return URLFetcherResponse(url, resource.data, {"Content-Type": resource.mime_type})

    return PortalURLFetcher


def url_fetcher():
    """A new fetcher for one rendering (it records what it refused, in `.refused`)."""
    return _fetcher_class()()


def render_html(template_name: str, context: dict, *, language: str = "zh-hans") -> str:
    with translation.override(language):
        return render_to_string(template_name, {**context, "pdf_language": language})


def render_pdf(template_name: str, context: dict, *, language: str = "zh-hans") -> bytes:
    """Render a portal template (autoescaped data only) to PDF bytes, in `language`."""
    from weasyprint import HTML

    html = render_html(template_name, context, language=language)
    with translation.override(language):
        document = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=url_fetcher()).render()
        # Fonts are subset by default (HarfBuzz's subsetter when libharfbuzz-subset0 is installed); never full_fonts.
        return document.write_pdf()


# --- QR code and e-seal ------------------------------------------------------------------------------


def qr_data_uri(url: str) -> str:
    """The QR code of `url` as an SVG data URI (error correction M, quiet zone of four modules)."""
    import segno

    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=4, dark="#000", light="#fff")


SEAL_RED = "#d7000f"
DEFAULT_SEAL_LABEL = "电子印章"  # "electronic seal": every seal says it is one


def seal_svg(office_name: str, *, label: str = "") -> str:
    """A round e-seal drawn from scratch: red ring, five-pointed star, the office name on the upper arc, a label
    under the star ("电子印章" unless another is given).

    This is a drawing the portal makes for every document, never the image of a physical seal.
    """
    size, centre, radius = 200, 100.0, 92.0
    name = " ".join((office_name or "").split())[:24] or "-"
    label = " ".join((label or "").split())[:12] or DEFAULT_SEAL_LABEL
    # Characters spread over the upper arc (about 240 degrees), upright to the centre, as official seals do.
    count = len(name)
    span = min(240.0, max(60.0, 20.0 * count))
    font_size = max(11.0, min(22.0, 520.0 / max(count, 1)))
    text_radius = radius - 12 - font_size * 0.5
    glyphs = []
    for index, char in enumerate(name):
        angle = -span / 2 + (span * (index + 0.5) / count) if count else 0.0  # degrees from the top, clockwise
        theta = math.radians(angle - 90)
        x = centre + text_radius * math.cos(theta)
        y = centre + text_radius * math.sin(theta)
        glyphs.append(
            f'<text x="{x:.2f}" y="{y:.2f}" transform="rotate({angle:.2f} {x:.2f} {y:.2f})" '
            f'font-size="{font_size:.1f}" text-anchor="middle" dominant-baseline="central">{escape(char)}</text>'
        )
    star = []
    for point in range(10):
        r = 30.0 if point % 2 == 0 else 12.0
        theta = math.radians(-90 + 36 * point)
        star.append(f"{centre + r * math.cos(theta):.2f},{centre + r * math.sin(theta):.2f}")
    label_text = (
        f'<text x="{centre}" y="{centre + 52:.1f}" font-size="15" text-anchor="middle" '
        f'dominant-baseline="central">{escape(label)}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">'
        f'<g fill="{SEAL_RED}" stroke="none" font-family="WenQuanYi Zen Hei, Noto Sans CJK SC, sans-serif" '
        f'font-weight="bold">'
        f'<circle cx="{centre}" cy="{centre}" r="{radius}" fill="none" stroke="{SEAL_RED}" stroke-width="6"/>'
        f'<polygon points="{" ".join(star)}"/>'
        f"{''.join(glyphs)}{label_text}</g></svg>"
    )


def seal_data_uri(office_name: str, *, label: str = "") -> str:
    """seal_svg() as a data URI for <img src>."""
    svg = seal_svg(office_name, label=label)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# --- PAdES signature -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureCheck:
    signed: bool  # the PDF carries an embedded signature at all
    valid: bool  # cryptographically sound and chaining to the portal's certificate
    intact: bool  # the signed digest matches and the signature covers the entire file
    signer: str = ""
    signed_at: datetime.datetime | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.signed and self.valid and self.intact


def _file_key(path: str) -> tuple[str, int]:
    return (str(path), os.stat(path).st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _load_signer(key: tuple[str, int], cert: tuple[str, int]):
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load(key[0], cert[0])
    if signer is None:
        raise RuntimeError(f"cannot load the signing key {key[0]} / certificate {cert[0]}")
    return signer


@functools.lru_cache(maxsize=4)
def _load_certificate(cert: tuple[str, int]):
    from pyhanko.keys import load_cert_from_pemder

    return load_cert_from_pemder(cert[0])


def signer():
    """The portal's pyHanko signer, loaded once per process and again when either file changes."""
    return _load_signer(_file_key(settings.SIGNING_KEY_FILE), _file_key(settings.SIGNING_CERT_FILE))


def signing_certificate():
    return _load_certificate(_file_key(settings.SIGNING_CERT_FILE))


# Bytes reserved for the CMS container, per signer. pyHanko otherwise estimates it before every signature by making
# a dummy one, which costs about a third of the signing time; the first signature's size (estimate and slack
# included) is reused until the key changes.
_reserved_for: dict[int, int] = {}
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+\d+\s*\]")


def _reserved_size(signed: bytes) -> int | None:
    matches = list(_BYTE_RANGE.finditer(signed))
    if not matches:
        return None
    start1, len1, start2 = (int(x) for x in matches[-1].groups())
    return start2 - (start1 + len1) - 2  # pyHanko counts the hex digits between < and >


def sign_pdf(pdf: bytes, *, reason: str, location: str = "Henan") -> bytes:
    """Sign `pdf` with the portal's key: PAdES B-B, SHA-256, an invisible field named "Signature"."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError

    meta = signers.PdfSignatureMetadata(
        field_name="Signature",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
    )
    portal_signer = signer()
    reserved = _reserved_for.get(id(portal_signer))

    def sign(bytes_reserved):
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        return signers.PdfSigner(meta, signer=portal_signer).sign_pdf(writer, bytes_reserved=bytes_reserved).getvalue()

    try:
        signed = sign(reserved)
    except SigningError:
        if reserved is None:
            raise
        signed = sign(None)  # the container grew (a new attribute, a longer chain): estimate again
        reserved = None
    if reserved is None:
        measured = _reserved_size(signed)
        if measured:
            _reserved_for.clear()  # one signer at a time in practice; never grow without bound
            _reserved_for[id(portal_signer)] = measured
    return signed


def _common_name(cert) -> str:
    if cert is None:
        return ""
    subject = cert.subject.native
    return str(subject.get("common_name") or cert.subject.human_friendly)


def check_signature(pdf: bytes) -> SignatureCheck:
    """Validate the last embedded signature against the portal's own certificate as the only trust root."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except Exception as exc:  # noqa: BLE001 - any unreadable upload is "not signed"
        return SignatureCheck(signed=False, valid=False, intact=False, error=f"unreadable PDF: {exc}"[:300])
    if not embedded:
        return SignatureCheck(signed=False, valid=False, intact=False, error="no signature")
    sig = embedded[-1]
    try:
        context = ValidationContext(trust_roots=[signing_certificate()], allow_fetching=False)
        status = validate_pdf_signature(sig, context, skip_diff=True)
    except Exception as exc:  # noqa: BLE001 - a damaged signature is an invalid one
        return SignatureCheck(signed=True, valid=False, intact=False, error=f"{type(exc).__name__}: {exc}"[:300])
    intact = bool(status.intact and status.coverage == SignatureCoverageLevel.ENTIRE_FILE)
    valid = bool(status.bottom_line)  # digest, signature and trust in the portal's certificate
    signed_at = getattr(status, "signer_reported_dt", None)
    return SignatureCheck(
        signed=True,
        valid=valid,
        intact=intact,
        signer=_common_name(status.signing_cert),
        signed_at=signed_at,
        error="" if (valid and intact) else status.summary(),
    )
