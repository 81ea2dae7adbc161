"""Rotate the document-signing key without invalidating any certificate issued before.

Production: `manage.py rotate_signing_key --key new.key.pem --cert new.cert.pem --chain ca-chain.pem
[--roots roots.pem]` with the files the province CA issued. Development and tests: `--test-pki` issues a new key
and certificate from the test PKI (certomancer, TEST ONLY). Either way the current certificate and the new one are
added to SIGNING_HISTORY_FILE before the new files replace the old, so the verifier keeps trusting every
generation (docs/deploy.md#signing-keys-and-the-pki).
"""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import signing


class Command(BaseCommand):
    help = "Install a new signing key and certificate, keeping every earlier certificate trusted."
    # No system checks first: on a first install the signing files are missing (portal.E003, E004, E018-E020) until
    # this very command writes them. It checks the new material itself.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--key", help="the new private key (PEM, unencrypted)")
        parser.add_argument("--cert", help="the new document-signing certificate (PEM)")
        parser.add_argument("--chain", help="the issuing CA certificate(s) between it and the root (PEM)")
        parser.add_argument(
            "--roots", help="trust roots to add (PEM); default: the configured SIGNING_TRUST_ROOTS_FILE"
        )
        parser.add_argument(
            "--test-pki",
            action="store_true",
            help="development and tests only: issue the new certificate from the TEST ONLY certomancer PKI",
        )

    def handle(self, *args: object, **options: Any) -> None:
        if options["test_pki"]:
            from portal.testpki import default_pki

            pki = default_pki()
            pki.prepare()
            label = pki.add_signer()
            material = pki.material(label)
            note = (
                f"issued by the test PKI in {pki.directory} as {label}; restart its animator (`make run`) so that "
                "its OCSP responder knows the new certificate"
            )
        else:
            if not (options["key"] and options["cert"] and options["chain"]):
                raise CommandError("give --key, --cert and --chain (the files from the CA), or --test-pki")
            roots_path = options["roots"] or settings.SIGNING_TRUST_ROOTS_FILE
            try:
                material = {
                    "key_pem": Path(options["key"]).read_bytes(),
                    "cert_pem": Path(options["cert"]).read_bytes(),
                    "chain_pem": Path(options["chain"]).read_bytes(),
                    "roots_pem": Path(roots_path).read_bytes(),
                }
            except OSError as exc:
                raise CommandError(f"cannot read {exc.filename}: {exc.strerror}") from exc
            note = "from the given files"
        try:
            cert = signing.install_signing_material(**material)
        except signing.SigningMaterialError as exc:
            raise CommandError(f"not installed: {exc}") from exc
        history = len(signing.certificates_in(settings.SIGNING_HISTORY_FILE))
        self.stdout.write(
            self.style.SUCCESS(
                f"New signing certificate installed ({note}): serial {cert.serial_number}, valid until "
                f"{cert.not_valid_after:%Y-%m-%d}; {history} certificate(s) in {settings.SIGNING_HISTORY_FILE}."
            )
        )
        self.stdout.write(
            "Copy SIGNING_HISTORY_FILE and SIGNING_TRUST_ROOTS_FILE to every web machine; the key only to the "
            "worker_pdf machines; then restart the workers."
        )
