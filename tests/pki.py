"""Signing material for tests: the TEST ONLY certomancer PKI (one per test process, animated on a free loopback port
when a test signs PAdES B-LTA) and forged look-alikes of it."""

from __future__ import annotations

import atexit
import datetime
import shutil
import socket
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.test import override_settings

from portal import signing
from portal.testpki import FIRST_SIGNER, TestPKI

FILES = {
    "SIGNING_KEY_FILE": "key.pem",
    "SIGNING_CERT_FILE": "cert.pem",
    "SIGNING_CHAIN_FILE": "chain.pem",
    "SIGNING_TRUST_ROOTS_FILE": "roots.pem",
    "SIGNING_HISTORY_FILE": "history.pem",
}

_shared: TestPKI | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shared_pki() -> TestPKI:
    """This process's test PKI, prepared (certificates generated) on first use and removed at exit."""
    global _shared
    if _shared is None:
        directory = Path(tempfile.mkdtemp(prefix="henan-test-pki-"))
        pki = TestPKI(directory / "pki", free_port())
        pki.prepare()

        def cleanup():
            pki.stop()
            shutil.rmtree(directory, ignore_errors=True)

        atexit.register(cleanup)
        _shared = pki
    return _shared


def signing_settings(directory: Path) -> dict[str, str]:
    """The SIGNING_* settings of the files in `directory`."""
    return {name: str(Path(directory) / filename) for name, filename in FILES.items()}


def install_signer(directory: Path, label: str = FIRST_SIGNER, pki: TestPKI | None = None) -> tuple[Path, Path]:
    """Install a document-signing certificate of the test PKI (and its chain, roots, history) in `directory`, as
    `manage.py make_signing_key` does for var/signing; returns (key, cert) paths."""
    pki = pki or shared_pki()
    pki.prepare()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with override_settings(**signing_settings(directory)):
        signing.install_signing_material(**pki.material(label))
    return directory / "key.pem", directory / "cert.pem"


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Henan"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_forged_keys(directory: Path) -> tuple[Path, Path]:
    """A forger's look-alike of the portal's PKI: a root, an issuing CA and a signing certificate with exactly the
    test PKI's subject names, key usages and extended key usages, but keys of their own. Writes the five signing
    files into `directory` (so with signing_settings(directory) it is a sound PKI of its own); returns (key, cert)."""
    pki = shared_pki()
    real = {
        label: x509.load_der_x509_certificate(pki.certificate_der(label))
        for label in ("root", "issuing-ca", FIRST_SIGNER)
    }
    now = datetime.datetime.now(datetime.UTC)
    keys = {label: ec.generate_private_key(ec.SECP256R1()) for label in real}
    issuers = {"root": "root", "issuing-ca": "root", FIRST_SIGNER: "issuing-ca"}
    made: dict[str, x509.Certificate] = {}
    for label in ("root", "issuing-ca", FIRST_SIGNER):
        builder = (
            x509.CertificateBuilder()
            .subject_name(real[label].subject)
            .issuer_name(real[issuers[label]].subject)
            .public_key(keys[label].public_key())
            .serial_number(real[label].serial_number)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
        )
        for extension in real[label].extensions:
            if extension.oid in (
                x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER,
                x509.oid.ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
            ):
                continue
            builder = builder.add_extension(extension.value, extension.critical)
        made[label] = builder.sign(keys[issuers[label]], hashes.SHA256())
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    (directory / "key.pem").write_bytes(
        keys[FIRST_SIGNER].private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (directory / "cert.pem").write_bytes(made[FIRST_SIGNER].public_bytes(pem))
    (directory / "chain.pem").write_bytes(made["issuing-ca"].public_bytes(pem))
    (directory / "roots.pem").write_bytes(made["root"].public_bytes(pem))
    (directory / "history.pem").write_bytes(made[FIRST_SIGNER].public_bytes(pem))
    return directory / "key.pem", directory / "cert.pem"
