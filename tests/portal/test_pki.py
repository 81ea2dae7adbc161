"""PAdES B-LTA against the TEST ONLY certomancer PKI on loopback: pyHanko and pdfsig say valid, the signature outlives
its certificate, the pinned CA refuses look-alikes, and key rotation keeps every earlier document genuine."""

import datetime
import io
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from pyhanko.pdf_utils.reader import PdfFileReader

from portal import pdf as portal_pdf
from portal import signing
from portal.testpki import STRANGER, TestPKI
from portal.verify import pdfverify
from tests.pki import free_port, install_signer, signing_settings
from tests.portal.verification import blank_pdf, issue

BIN = Path(__file__).resolve().parent.parent.parent / ".venv" / "bin"
# signer-1 of the test PKI is valid until 2031-01-01; its CA, root and TSA until 2050 and later.
AFTER_EXPIRY = datetime.datetime(2032, 6, 1, tzinfo=datetime.UTC)


@pytest.fixture
def lta_pdf(lta_signing):
    return portal_pdf.sign_pdf(blank_pdf("lta"), reason="Certificate of No Criminal Record")


@pytest.fixture
def no_network(monkeypatch):
    """Any connection attempt fails the test: validation must use the document's own data."""
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError(f"network access during validation: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_signature_is_pades_b_lta(lta_pdf):
    reader = PdfFileReader(io.BytesIO(lta_pdf))
    [sig] = reader.embedded_regular_signatures
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    # A signature timestamp from the TSA, in the signature's unsigned attributes.
    unsigned = {attr["type"].native for attr in sig.signer_info["unsigned_attrs"]}
    assert "signature_time_stamp_token" in unsigned
    # The DSS holds the certificates and the OCSP/CRL answers ...
    dss = reader.root["/DSS"]
    assert len(dss["/Certs"]) >= 4 and len(dss["/OCSPs"]) >= 1 and len(dss["/CRLs"]) >= 1
    # ... and a document timestamp covers everything, the DSS included.
    doc_ts = [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]
    assert doc_ts and doc_ts[-1].sig_object["/SubFilter"] == "/ETSI.RFC3161"
    assert doc_ts[-1].signed_revision > sig.signed_revision
    # The signing certificate: document signing, from the pinned issuing CA.
    cert = sig.signer_cert
    assert signing.usage_problems(cert) == []
    assert cert.issuer.native["common_name"] == "Henan e-Services TEST Document Signing CA"
    ekus = set(cert.extended_key_usage_value.native)
    # id-kp-documentSigning, Adobe 1.2.840.113583.1.1.5 and, for NSS (pdfsig, Firefox), emailProtection.
    assert ekus == {"1.3.6.1.5.5.7.3.36", "pdf_signing", "email_protection"}


def test_portal_check_reports_long_term_validity(lta_pdf, no_network):
    check = portal_pdf.check_signature(lta_pdf)
    assert check.ok and check.long_term and no_network == []
    assert check.timestamped_at is not None
    assert abs(check.timestamped_at - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)
    assert check.signer == "Henan e-Services document signing"


def test_still_valid_after_the_signing_certificate_expired(lta_pdf, lta_signing, no_network):
    # 2032: signer-1 expired on 2031-01-01. The timestamps prove the signature existed in 2026, and the embedded
    # OCSP/CRL answers that the certificate was good then; nothing is fetched.
    later = portal_pdf.check_signature(lta_pdf, at=AFTER_EXPIRY)
    assert later.ok and later.long_term, later.error
    assert no_network == []
    # The control: the same key's plain B-B signature has nothing to prove its time, and fails once expired.
    plain = _sign_b_b(blank_pdf("b-b"))
    assert portal_pdf.check_signature(plain).ok
    expired = portal_pdf.check_signature(plain, at=AFTER_EXPIRY)
    assert expired.intact and not expired.valid and not expired.ok


def _sign_b_b(data: bytes) -> bytes:
    from django.conf import settings

    tsa, settings.TSA_URL = settings.TSA_URL, ""
    try:
        return portal_pdf.sign_pdf(data, reason="B-B")
    finally:
        settings.TSA_URL = tsa


def test_pyhanko_cli_validates_it(lta_pdf, tmp_path, settings):
    (tmp_path / "c.pdf").write_bytes(lta_pdf)
    roots = settings.SIGNING_TRUST_ROOTS_FILE
    out = subprocess.run(
        [BIN / "pyhanko", "sign", "validate", "--trust", roots, "--trust-replace", "--pretty-print", "c.pdf"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "The signature is judged VALID." in out.stdout
    assert "This timestamp is backed by a time stamping authority." in out.stdout
    assert "The TSA certificate is trusted." in out.stdout
    # AdES validation (ETSI EN 319 102-1, long-term availability): PASSED.
    ades = subprocess.run(
        [BIN / "pyhanko", "sign", "adesverify", "--trust", roots, "--trust-replace", "--pretty-print", "c.pdf"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ades.returncode == 0, ades.stdout + ades.stderr
    assert "The signature is judged VALID." in ades.stdout


def test_pdfsig_says_valid_and_trusted(lta_pdf, tmp_path, settings):
    assert shutil.which("pdfsig") and shutil.which("certutil"), "apt-get install poppler-utils libnss3-tools"
    (tmp_path / "c.pdf").write_bytes(lta_pdf)
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "C,C,C", "-i", settings.SIGNING_TRUST_ROOTS_FILE],
        check=True,
    )
    # -no-ocsp: NSS would ask the OCSP responder with an HTTP GET, which certomancer's animator does not serve
    # (POST only); the certificate's status is in the document's DSS, which poppler does not read.
    out = subprocess.run(
        ["pdfsig", "-no-ocsp", "-nssdir", f"sql:{nss}", "c.pdf"], cwd=tmp_path, capture_output=True, text=True
    ).stdout
    first, _, second = out.partition("Signature #2:")
    assert "Signature Validation: Signature is Valid." in first, out
    assert "Certificate Validation: Certificate is Trusted." in first, out
    assert "Signer Certificate Common Name: Henan e-Services document signing" in first
    assert "Signature Type: ETSI.CAdES.detached" in first
    # The document timestamp, by the TSA (poppler 22 lists it but cannot check RFC 3161 timestamps itself).
    assert "Signature Field Name: Timestamp" in second
    assert "Henan e-Services TEST Time-Stamping Authority" in second


def test_forged_look_alike_and_unregistered_certificates_are_refused(lta_signing, settings, tmp_path):
    from tests.pki import make_forged_keys

    genuine = signing_settings(Path(settings.SIGNING_KEY_FILE).parent)
    # A forger's chain with every name of ours: refused by the pinned root.
    make_forged_keys(tmp_path / "forged")
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(
        str, (tmp_path / "forged" / "key.pem", tmp_path / "forged" / "cert.pem")
    )
    tsa, settings.TSA_URL = settings.TSA_URL, ""
    forged = portal_pdf.sign_pdf(blank_pdf("forged"), reason="forged")
    # A certificate from our very CA with our very subject name that the portal never registered: refused too.
    install_signer(tmp_path / "stranger", label=STRANGER, pki=lta_signing)
    settings.SIGNING_KEY_FILE = str(tmp_path / "stranger" / "key.pem")
    settings.SIGNING_CERT_FILE = str(tmp_path / "stranger" / "cert.pem")
    settings.TSA_URL = tsa
    stranger = portal_pdf.sign_pdf(blank_pdf("stranger"), reason="stranger")
    for name, value in genuine.items():
        setattr(settings, name, value)
    forged_check = portal_pdf.check_signature(forged)
    assert forged_check.signed and forged_check.intact and not forged_check.valid
    assert forged_check.signer == "Henan e-Services document signing"
    stranger_check = portal_pdf.check_signature(stranger)
    assert stranger_check.signed and stranger_check.intact and stranger_check.long_term
    assert not stranger_check.valid and "never registered" in stranger_check.error


def test_rotation_twice_keeps_all_three_generations_genuine(case, settings, tmp_path):  # noqa: F811
    # A PKI of this test's own: rotations add certificates to it, and its animator restarts to know them.
    pki = TestPKI(tmp_path / "pki", free_port())
    install_signer(tmp_path / "signing", pki=pki)
    for name, value in signing_settings(tmp_path / "signing").items():
        setattr(settings, name, value)
    settings.TEST_PKI_DIR, settings.TEST_PKI_PORT = str(pki.directory), pki.port
    settings.TSA_URL = pki.tsa_url
    issued = []
    try:
        pki.start()
        for generation in (1, 2, 3):
            if generation > 1:
                call_command("rotate_signing_key", "--test-pki", stdout=io.StringIO())
                pki.restart()  # its OCSP responder now knows the new certificate
            document, signed = issue(case, generation=generation)
            issued.append((document, signed, portal_pdf.check_signature(signed)))
        # A key of the same CA that was never installed: still someone else.
        install_signer(tmp_path / "stranger", label=STRANGER, pki=pki)
        current = signing_settings(tmp_path / "signing")
        settings.SIGNING_KEY_FILE = str(tmp_path / "stranger" / "key.pem")
        settings.SIGNING_CERT_FILE = str(tmp_path / "stranger" / "cert.pem")
        stranger = portal_pdf.sign_pdf(blank_pdf("stranger"), reason="stranger")
        for name, value in current.items():
            setattr(settings, name, value)
    finally:
        pki.stop()
    serials = {check.signer and signing_serial(signed) for _doc, signed, check in issued}
    assert len(serials) == 3, "three generations, three certificates"
    assert len(signing.certificates_in(settings.SIGNING_HISTORY_FILE)) == 3
    for document, signed, _check in issued:
        outcome = pdfverify.verify_pdf(pdf=signed, ip=None)
        assert outcome.genuine and outcome.result == "genuine", (document.code, portal_pdf.check_signature(signed))
        assert portal_pdf.check_signature(signed).long_term
    outcome = pdfverify.verify_pdf(pdf=stranger, ip=None)
    assert outcome.signed and outcome.signature_intact and not outcome.signature_valid
    assert outcome.result == "bad_signature"


def signing_serial(signed: bytes) -> int:
    return PdfFileReader(io.BytesIO(signed)).embedded_regular_signatures[-1].signer_cert.serial_number
