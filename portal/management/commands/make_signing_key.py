"""Prepare the development and test PKI (TEST ONLY keys in portal/pki/) and install its first signing certificate.

`make setup` runs it. The signing key, certificate, chain, trust roots and history files (SIGNING_* settings) come
from certomancer's test PKI in TEST_PKI_DIR; files already installed from that PKI are left as they are. Production
installs the province CA's key and certificate with `manage.py rotate_signing_key --key … --cert …` instead
(docs/deploy.md#signing-keys-and-the-pki).
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from portal import signing
from portal.testpki import FIRST_SIGNER, default_pki


class Command(BaseCommand):
    help = "Prepare the test PKI (certomancer, TEST ONLY) and install its first document-signing certificate."

    def handle(self, *args: object, **options: object) -> None:
        pki = default_pki()
        pki.prepare()
        files = (settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE, settings.SIGNING_TRUST_ROOTS_FILE)
        if all(Path(f).is_file() for f in files) and signing.trust_roots():
            root = signing.pem_of(signing.parse_pem_certificates(pki.certificate_der("root")))
            if signing.pem_of(signing.trust_roots()[:1]) == root:
                self.stdout.write(f"Signing key already present: {settings.SIGNING_KEY_FILE}")
                return
        # A missing set, or one from before the test PKI (a self-signed key): install generation 1. The old
        # certificate, if any, stays in the history file.
        cert = signing.install_signing_material(**pki.material(FIRST_SIGNER))
        self.stdout.write(
            self.style.SUCCESS(
                f"Installed the TEST ONLY signing key {settings.SIGNING_KEY_FILE} and certificate "
                f"{settings.SIGNING_CERT_FILE} (serial {cert.serial_number}) from the test PKI in {pki.directory}"
            )
        )
