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
from typing import Any
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
PDF_VARIANT = "pdf/a-2b"


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
        # PDF/A-2b (archival: fonts embedded, an output intent, XMP metadata) and tagged (a structure tree that
        # screen readers follow); the signature is appended as an incremental update, which PDF/A-2 allows.
        return document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True)


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
    valid: bool  # cryptographically sound, chaining to the pinned roots, by a certificate the portal has used
    intact: bool  # the signed digest matches and nothing but validation data and timestamps was added after it
    signer: str = ""
    signed_at: datetime.datetime | None = None
    error: str = ""
    long_term: bool = False  # PAdES B-LTA: validated on the timestamps and the embedded OCSP/CRL data alone
    timestamped_at: datetime.datetime | None = None  # the signature timestamp (TSA), when there is one

    @property
    def ok(self) -> bool:
        return self.signed and self.valid and self.intact


def _file_key(path: str) -> tuple[str, int]:
    return (str(path), os.stat(path).st_mtime_ns)


def _optional_file_key(path: str) -> tuple[str, int]:
    try:
        return _file_key(path)
    except (FileNotFoundError, NotADirectoryError):
        return (str(path), -1)


@functools.lru_cache(maxsize=8)
def _load_signer(key: tuple[str, int], cert: tuple[str, int], chain: tuple[str, int]):
    from pyhanko.sign import signers

    chain_files = [chain[0]] if chain[1] >= 0 else []
    signer = signers.SimpleSigner.load(key[0], cert[0], ca_chain_files=chain_files)
    if signer is None:
        raise RuntimeError(f"cannot load the signing key {key[0]} / certificate {cert[0]}")
    return signer


@functools.lru_cache(maxsize=4)
def _load_certificate(cert: tuple[str, int]):
    from pyhanko.keys import load_cert_from_pemder

    return load_cert_from_pemder(cert[0])


def signer(*, with_chain: bool = False) -> Any:
    """The portal's pyHanko signer, loaded once per process and again when a file changes.

    `with_chain`: the issuing CA certificates ride in the signature too (B-LTA: a validator years later needs them
    from the document); a B-B signature carries the signing certificate alone, as it always did.
    """
    chain = _optional_file_key(settings.SIGNING_CHAIN_FILE) if with_chain else ("", -1)
    return _load_signer(_file_key(settings.SIGNING_KEY_FILE), _file_key(settings.SIGNING_CERT_FILE), chain)


def signing_certificate():
    return _load_certificate(_file_key(settings.SIGNING_CERT_FILE))


class SigningServiceUnavailable(OSError):
    """The timestamp authority, OCSP responder or CRL could not be reached: try again later (an OSError, so the
    issuing tasks retry it like any other passing fault)."""


# Bytes reserved for the CMS container, per signer and profile. pyHanko otherwise estimates it before every
# signature by making a dummy one (with B-LTA, one more TSA request), which costs about a third of the signing time;
# the first signature's size (estimate and slack included) is reused until the key changes.
_reserved_for: dict[tuple[int, bool], int] = {}
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+\d+\s*\]")
# The timestamp token grows with the TSA's chain; the slack keeps a measured size usable across small variations.
_LTA_SLACK = 512


def _reserved_size(signed: bytes, *, first: bool = False) -> int | None:
    matches = list(_BYTE_RANGE.finditer(signed))
    if not matches:
        return None
    start1, len1, start2 = (int(x) for x in (matches[0] if first else matches[-1]).groups())
    return start2 - (start1 + len1) - 2  # pyHanko counts the hex digits between < and >


def _timestamper() -> Any:
    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

    # requests, not pyHanko's default aiohttp client: that one builds a new TLS context (~0.1 s) for every request.
    return RequestsHTTPTimeStamper(settings.TSA_URL, timeout=settings.TSA_TIMEOUT)


def _signing_validation_context() -> Any:
    """Validation at signing time: the pinned roots, fetching OCSP/CRL online, every certificate's status required
    (a document is never issued without the data that lets it be validated after its certificate expires)."""
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

    from portal import signing

    return ValidationContext(
        trust_roots=signing.trust_roots(),
        other_certs=signing.chain(),
        allow_fetching=True,
        revocation_mode="require",
        fetcher_backend=RequestsFetcherBackend(per_request_timeout=settings.TSA_TIMEOUT),
    )


def long_term_signing() -> bool:
    """True when signatures are PAdES B-LTA (TSA_URL is set)."""
    return bool(settings.TSA_URL)


def sign_pdf(pdf: bytes, *, reason: str, location: str = "Henan") -> bytes:
    """Sign `pdf` with the portal's key, SHA-256, in an invisible field named "Signature".

    With TSA_URL set (production, `make run`): PAdES B-LTA — a signature timestamp, the certificates and OCSP/CRL
    answers in the document security store, and a document timestamp over all of it. Without: PAdES B-B.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError

    lta = long_term_signing()
    extra: dict[str, Any] = {}
    if lta:
        extra = {
            "embed_validation_info": True,
            "use_pades_lta": True,
            "validation_context": _signing_validation_context(),
        }
    meta = signers.PdfSignatureMetadata(
        field_name="Signature",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        **extra,
    )
    portal_signer = signer(with_chain=lta)
    slot = (id(portal_signer), lta)
    reserved = _reserved_for.get(slot)
    timestamper = _timestamper() if lta else None

    def sign(bytes_reserved: int | None) -> bytes:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        pdf_signer = signers.PdfSigner(meta, signer=portal_signer, timestamper=timestamper)
        return pdf_signer.sign_pdf(writer, bytes_reserved=bytes_reserved).getvalue()

    try:
        try:
            signed = sign(reserved)
        except SigningError:
            if reserved is None:
                raise
            signed = sign(None)  # the container grew (a new attribute, a longer chain): estimate again
            reserved = None
    except Exception as exc:
        if lta and _is_network_fault(exc):
            raise SigningServiceUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from exc
        raise
    if reserved is None:
        measured = _reserved_size(signed, first=True)
        if measured:
            _reserved_for.clear()  # one signer at a time in practice; never grow without bound
            _reserved_for[slot] = measured + (_LTA_SLACK if lta else 0)
    return signed


def _is_network_fault(exc: BaseException) -> bool:
    import requests
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko_certvalidator.errors import RevokedError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, RevokedError):
            return False  # a revoked signing certificate is no passing fault
        if isinstance(current, (TimestampRequestError, requests.RequestException, ConnectionError, TimeoutError)):
            return True
        current = current.__cause__ or current.__context__
    return False


def _common_name(cert) -> str:
    if cert is None:
        return ""
    subject = cert.subject.native
    return str(subject.get("common_name") or cert.subject.human_friendly)


def _offline_validation_spec(roots: list[Any], extra_certs: list[Any]) -> Any:
    """PAdES validation from the document's own data: never a network request (an uploaded PDF names the URLs)."""
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
    from pyhanko.sign.validation.policy_decl import (
        CertificateFetchingRule,
        LocalKnowledge,
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        FreshnessReqType,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )
    from pyhanko_certvalidator.registry import SimpleTrustManager

    # Status data is required for every certificate that names a source, and the data embedded at signing time is
    # accepted however old: that is the point of B-LTA, checked against the timestamps' proof of existence.
    revinfo = CertRevTrustPolicy(
        RevocationCheckingPolicy(
            ee_certificate_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
            intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
        ),
        freshness=datetime.timedelta(days=365 * 100),
        freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
    )
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(roots), revinfo_policy=revinfo
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
                certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH,
            ),
            local_knowledge=LocalKnowledge(known_certs=list(extra_certs)),
        ),
        diff_policy=DEFAULT_DIFF_POLICY,
    )


def _has_long_term_data(reader: Any, sig: Any) -> bool:
    """A DSS and at least one document timestamp after the signature: the document claims B-LTA."""
    if "/DSS" not in reader.root:
        return False
    return any(
        ts.signed_revision > sig.signed_revision
        for ts in reader.embedded_signatures
        if ts.sig_object_type == "/DocTimeStamp"
    )


def _gap_is_clean(pdf: bytes, sig: Any) -> bool:
    """The one unsigned stretch of a signature, /Contents, holds the DER container and zero padding, nothing else:
    a changed byte in the padding, or data smuggled into it, is an alteration even though no digest covers it."""
    from asn1crypto import parser

    try:
        start1, len1, start2, _len2 = (int(x) for x in sig.byte_range)
        gap = pdf[start1 + len1 : start2].strip()
        if not (gap.startswith(b"<") and gap.endswith(b">")):
            return False
        raw = bytes.fromhex(gap[1:-1].decode("ascii"))
        _cls, _method, _tag, header, contents, trailer = parser.parse(raw)
    except (ValueError, TypeError, UnicodeDecodeError):
        return False
    return not raw[len(header) + len(contents) + len(trailer) :].strip(b"\x00")


def check_signature(pdf: bytes, *, at: datetime.datetime | None = None) -> SignatureCheck:
    """Validate the last regular signature offline: pinned trust roots, a signing certificate the portal registered.

    A B-LTA document is validated as ETSI EN 319 102-1 prescribes for long-term signatures (its timestamps and the
    OCSP/CRL answers it carries), so it stays valid after the signing certificate expires or is revoked later. `at`
    is the validation time (now by default).
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.ades.report import AdESStatus
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

    from portal import signing

    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = reader.embedded_regular_signatures
    except Exception as exc:  # noqa: BLE001 - an unreadable upload is "not signed", or "altered" when it has one
        # A signature dictionary in a file that no longer parses: the signed bytes were damaged after signing.
        signed = _BYTE_RANGE.search(pdf) is not None
        return SignatureCheck(signed=signed, valid=False, intact=False, error=f"unreadable PDF: {exc}"[:300])
    if not embedded:
        return SignatureCheck(signed=False, valid=False, intact=False, error="no signature")
    sig = embedded[-1]
    roots = signing.trust_roots() or signing.certificates_in(settings.SIGNING_CERT_FILE)
    registered = signing.registered_certificates()
    long_term = False
    timestamped_at = None
    try:
        long_term = _has_long_term_data(reader, sig)
        if long_term:
            timing = ValidationTimingInfo(at, at, point_in_time_validation=False) if at else None
            result = signing.run_coroutine(
                ades_lta_validation(sig, _offline_validation_spec(roots, signing.chain()), timing_info=timing)
            )
            status = result.api_status
            if status is None:
                raise ValueError(result.failure_msg or "no validation status")
            trusted = result.ades_subindic.status == AdESStatus.PASSED and bool(status.bottom_line)
            summary = result.failure_msg or status.summary()
        else:
            context = ValidationContext(
                trust_roots=roots,
                other_certs=signing.chain(),
                allow_fetching=False,
                revocation_mode="soft-fail",
                moment=at,
            )
            status = validate_pdf_signature(sig, context, skip_diff=True)
            trusted = bool(status.bottom_line)
            summary = status.summary()
    except Exception as exc:  # noqa: BLE001 - a damaged signature is an invalid one
        return SignatureCheck(signed=True, valid=False, intact=False, error=f"{type(exc).__name__}: {exc}"[:300])
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        intact = bool(status.intact)
    else:
        # Only validation data (DSS) and document timestamps may follow the signature (pyHanko's difference
        # analysis), every document timestamp must be intact, and nothing may trail the last revision.
        timestamps_intact = True
        for ts in reader.embedded_signatures:
            if ts.sig_object_type != "/DocTimeStamp":
                continue
            try:
                ts_status = validate_pdf_timestamp(
                    ts,
                    ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail", moment=at),
                    skip_diff=True,
                )
                timestamps_intact = timestamps_intact and bool(ts_status.intact)
            except Exception:  # noqa: BLE001 - an unreadable timestamp covers nothing
                timestamps_intact = False
        intact = bool(
            status.intact
            and long_term
            and status.modification_level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
            and timestamps_intact
            and pdf.rstrip(b"\r\n").endswith(b"%%EOF")
        )
    intact = intact and all(_gap_is_clean(pdf, s) for s in reader.embedded_signatures)
    signing_cert = status.signing_cert
    known = signing_cert is not None and signing.fingerprint(signing_cert) in registered
    valid = trusted and known
    ts_validity = getattr(status, "timestamp_validity", None)
    if ts_validity is not None:
        timestamped_at = ts_validity.timestamp
    error = ""
    if trusted and not known:
        error = "the signing certificate chains to the trust roots but was never registered as the portal's"
    elif not (valid and intact):
        error = summary
    return SignatureCheck(
        signed=True,
        valid=valid,
        intact=intact,
        signer=_common_name(signing_cert),
        signed_at=timestamped_at or getattr(status, "signer_reported_dt", None),
        error=error,
        long_term=long_term,
        timestamped_at=timestamped_at,
    )
