"""The portal's signing material: key, certificate, chain, pinned trust roots and every certificate ever used.

docs/deploy.md#signing-keys-and-the-pki describes the files; `manage.py rotate_signing_key` installs new ones.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import functools
import hashlib
import os
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings

if TYPE_CHECKING:
    from asn1crypto import x509

# id-kp-documentSigning (RFC 9336) and Adobe's "Authentic Documents Trust" purpose: a document-signing certificate
# carries at least one of them (docs/deploy.md#signing-keys-and-the-pki).
EKU_DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"
EKU_ADOBE_AUTHENTIC_DOCUMENTS = "1.2.840.113583.1.1.5"
# (asn1crypto names the Adobe OID "pdf_signing".)
DOCUMENT_SIGNING_EKUS = frozenset({EKU_DOCUMENT_SIGNING, EKU_ADOBE_AUTHENTIC_DOCUMENTS, "pdf_signing"})
REQUIRED_KEY_USAGE = frozenset({"digital_signature", "non_repudiation"})


T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """pyHanko's validation is asynchronous: run it to the end from synchronous code.

    asyncio.run refuses to start inside a running event loop, which is where a caller is whenever a thread already
    runs one (Playwright's sync API in the browser tests, an ASGI server): there the coroutine runs on a thread of
    its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class SigningMaterialError(ValueError):
    """A key, certificate or chain that must not be installed, with the reason."""


def _file_key(path: str) -> tuple[str, int]:
    try:
        return (str(path), os.stat(path).st_mtime_ns)
    except FileNotFoundError:
        return (str(path), -1)


def parse_pem_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle (or one DER certificate)."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    if not pem.detect(data):
        return [asn1_x509.Certificate.load(data)] if data.strip() else []
    return [asn1_x509.Certificate.load(der) for _type, _headers, der in pem.unarmor(data, multiple=True)]


def pem_of(certificates: list[x509.Certificate]) -> bytes:
    from asn1crypto import pem

    return b"".join(pem.armor("CERTIFICATE", cert.dump()) for cert in certificates)


@functools.lru_cache(maxsize=16)
def _certificates(key: tuple[str, int]) -> tuple[x509.Certificate, ...]:
    if key[1] < 0:
        return ()
    return tuple(parse_pem_certificates(Path(key[0]).read_bytes()))


def certificates_in(path: str) -> list[x509.Certificate]:
    """The certificates of a PEM file, read again only when it changes; none when the path is empty or absent."""
    return list(_certificates(_file_key(path))) if path else []


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def trust_roots() -> list[x509.Certificate]:
    return certificates_in(settings.SIGNING_TRUST_ROOTS_FILE)


def chain() -> list[x509.Certificate]:
    return certificates_in(settings.SIGNING_CHAIN_FILE)


def registered_certificates() -> dict[str, x509.Certificate]:
    """Every signing certificate the portal has used (SIGNING_HISTORY_FILE) and the current one, by fingerprint."""
    found = {fingerprint(c): c for c in certificates_in(settings.SIGNING_HISTORY_FILE)}
    for cert in certificates_in(settings.SIGNING_CERT_FILE):
        found.setdefault(fingerprint(cert), cert)
    return found


def usage_problems(cert: x509.Certificate) -> list[str]:
    """Why `cert` is not a document-signing certificate: key usage and extended key usage."""
    problems = []
    key_usage = set(cert.key_usage_value.native) if cert.key_usage_value else set()
    if not REQUIRED_KEY_USAGE <= key_usage:
        problems.append(f"key usage {sorted(key_usage)} lacks {sorted(REQUIRED_KEY_USAGE - key_usage)}")
    ekus = set(cert.extended_key_usage_value.native) if cert.extended_key_usage_value else set()
    if not ekus & DOCUMENT_SIGNING_EKUS:
        problems.append(
            f"extended key usage {sorted(ekus)} has neither id-kp-documentSigning ({EKU_DOCUMENT_SIGNING}) nor "
            f"Adobe's {EKU_ADOBE_AUTHENTIC_DOCUMENTS}"
        )
    if cert.ca:
        problems.append("it is a CA certificate")
    return problems


def validate_signing_material(
    *, key_pem: bytes, cert_pem: bytes, chain_pem: bytes, roots_pem: bytes, at: datetime.datetime | None = None
) -> x509.Certificate:
    """The new signing certificate, after checking that the key matches it, that it chains to the roots and that its
    usages are those of a document-signing certificate; SigningMaterialError otherwise."""
    from pyhanko.keys import load_private_key_from_pemder_data
    from pyhanko_certvalidator import CertificateValidator, ValidationContext

    certs = parse_pem_certificates(cert_pem)
    if len(certs) != 1:
        raise SigningMaterialError(f"the certificate file holds {len(certs)} certificates, not one")
    cert = certs[0]
    try:
        key = load_private_key_from_pemder_data(key_pem, passphrase=None)
    except Exception as exc:  # noqa: BLE001 - any unreadable key is refused with its reason
        raise SigningMaterialError(f"the key cannot be read: {exc}") from exc
    from cryptography.hazmat.primitives import serialization

    public = serialization.load_der_private_key(key.dump(), password=None).public_key()
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if spki != cert.public_key.dump():
        raise SigningMaterialError("the key does not belong to the certificate")
    problems = usage_problems(cert)
    if problems:
        raise SigningMaterialError("not a document-signing certificate: " + "; ".join(problems))
    roots = parse_pem_certificates(roots_pem)
    if not roots:
        raise SigningMaterialError("no trust root given")
    context = ValidationContext(
        trust_roots=roots,
        other_certs=parse_pem_certificates(chain_pem),
        allow_fetching=False,
        revocation_mode="soft-fail",
        moment=at or datetime.datetime.now(datetime.UTC),
    )
    validator = CertificateValidator(cert, validation_context=context)
    try:
        run_coroutine(validator.async_validate_usage(set(REQUIRED_KEY_USAGE)))
    except Exception as exc:  # noqa: BLE001 - path building, expiry, signature: all refuse the material
        raise SigningMaterialError(f"the certificate does not chain to the trust roots: {exc}") from exc
    return cert


def _write_atomically(path: str, data: bytes, *, mode: int = 0o644) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def install_signing_material(
    *, key_pem: bytes, cert_pem: bytes, chain_pem: bytes, roots_pem: bytes
) -> x509.Certificate:
    """Make a new key and certificate the portal's signing material, keeping every earlier certificate trusted.

    The current certificate (if any) and the new one are added to SIGNING_HISTORY_FILE before the new files replace
    the old, so a verifier never sees a moment where an issued document's certificate is unknown.
    """
    cert = validate_signing_material(key_pem=key_pem, cert_pem=cert_pem, chain_pem=chain_pem, roots_pem=roots_pem)
    history = certificates_in(settings.SIGNING_HISTORY_FILE)
    known = {fingerprint(c) for c in history}
    for candidate in [*certificates_in(settings.SIGNING_CERT_FILE), cert]:
        if fingerprint(candidate) not in known:
            history.append(candidate)
            known.add(fingerprint(candidate))
    _write_atomically(settings.SIGNING_HISTORY_FILE, pem_of(history))
    # Roots: the new ones and the old ones (a CA change must not orphan the documents signed under the old root).
    roots = certificates_in(settings.SIGNING_TRUST_ROOTS_FILE)
    root_prints = {fingerprint(c) for c in roots}
    roots += [c for c in parse_pem_certificates(roots_pem) if fingerprint(c) not in root_prints]
    _write_atomically(settings.SIGNING_TRUST_ROOTS_FILE, pem_of(roots))
    _write_atomically(settings.SIGNING_CHAIN_FILE, chain_pem)
    _write_atomically(settings.SIGNING_CERT_FILE, pem_of([cert]))
    _write_atomically(settings.SIGNING_KEY_FILE, key_pem, mode=0o600)
    return cert
