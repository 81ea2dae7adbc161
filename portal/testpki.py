"""The development and test PKI (TEST ONLY): certomancer's root, issuing CA, OCSP responder, CRLs and TSA on loopback.

portal/pki/certomancer.yml is the committed description. A TestPKI lives in a directory of its own (TEST_PKI_DIR for
`make run`, a temporary one per test worker): the effective configuration for its loopback port, the keys, the
certificates generated once (certomancer re-signs with ECDSA, whose signatures differ on every run, so every process
must serve the same bytes from files) and the document-signing generations `rotate_signing_key` has added.
Production never uses this module (docs/deploy.md#signing-keys-and-the-pki).
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import json
import os
import secrets
import shutil
import signal
import subprocess  # nosec B404 - starts certomancer, a fixed command
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

PKI_SOURCE = Path(__file__).resolve().parent / "pki"
BASE_CONFIG = PKI_SOURCE / "certomancer.yml"
ARCH = "henan-test"
FIRST_SIGNER = "signer-1"
TEMPLATE_SIGNER = "signer-1"
# A second document-signing certificate of the same CA and subject name that the portal never registers (tests).
STRANGER = "stranger"
ROTATED_VALIDITY = datetime.timedelta(days=2 * 365)


class TestPKIError(RuntimeError):
    """The test PKI could not be prepared or started."""


class TestPKI:
    """One test PKI in `directory`, serving OCSP, CRLs and the TSA on 127.0.0.1:`port` once started."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: str | Path, port: int) -> None:
        self.directory = Path(directory)
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url_prefix(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tsa_url(self) -> str:
        return f"{self.url_prefix}/{ARCH}/tsa/tsa"

    @property
    def config_path(self) -> Path:
        return self.directory / "certomancer.yml"

    @property
    def _generations_path(self) -> Path:
        return self.directory / "generations.json"

    @property
    def _log_path(self) -> Path:
        return self.directory / "animate.log"

    # --- configuration --------------------------------------------------------------------------------

    def _generations(self) -> list[dict[str, Any]]:
        if not self._generations_path.exists():
            return []
        return list(json.loads(self._generations_path.read_text()))

    def signer_labels(self) -> list[str]:
        """The document-signing certificates of this PKI the portal may use, oldest first."""
        return [FIRST_SIGNER, *(g["label"] for g in self._generations())]

    def _config(self, with_files: set[str]) -> dict[str, Any]:
        config = yaml.safe_load(BASE_CONFIG.read_text())
        config["external-url-prefix"] = self.url_prefix
        keys = config["keysets"][ARCH]["keys"]
        arch = config["pki-architectures"][ARCH]
        certs = arch["certs"]
        for generation in self._generations():
            label = generation["label"]
            keys[label] = {"path": f"{label}.key.pem"}
            spec = copy.deepcopy(certs[TEMPLATE_SIGNER])
            spec.update(
                {
                    "subject-key": label,
                    "serial": generation["serial"],
                    "validity": {"valid-from": generation["valid_from"], "valid-to": generation["valid_to"]},
                }
            )
            certs[label] = spec
        for label, spec in certs.items():
            if label in with_files:
                spec["certificate-file"] = f"certs/{label}.crt"
        return config

    def prepare(self) -> None:
        """Write the effective configuration and generate the certificates that have no file yet (idempotent)."""
        from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig

        (self.directory / "keys").mkdir(parents=True, exist_ok=True)
        (self.directory / "certs").mkdir(exist_ok=True)
        stamp = self.directory / "url-prefix"
        if stamp.exists() and stamp.read_text() != self.url_prefix:
            # The certificates name the OCSP and CRL addresses: another port means other certificates.
            shutil.rmtree(self.directory / "certs")
            (self.directory / "certs").mkdir()
        stamp.write_text(self.url_prefix)
        for source in (PKI_SOURCE / "keys").glob("*.key.pem"):
            target = self.directory / "keys" / source.name
            if not target.exists():
                shutil.copyfile(source, target)
        labels = set(self._config(set())["pki-architectures"][ARCH]["certs"])
        present = {label for label in labels if (self.directory / "certs" / f"{label}.crt").exists()}
        if present != labels:
            self.config_path.write_text(yaml.safe_dump(self._config(present), sort_keys=False))
            arch = CertomancerConfig.from_file(str(self.config_path)).get_pki_arch(ArchLabel(ARCH))
            for label in sorted(labels - present):
                (self.directory / "certs" / f"{label}.crt").write_bytes(arch.get_cert(CertLabel(label)).dump())
        self.config_path.write_text(
            "# TEST ONLY: written by portal/testpki.py from portal/pki/certomancer.yml; do not edit.\n"
            + yaml.safe_dump(self._config(labels), sort_keys=False)
        )

    def certificate_der(self, label: str) -> bytes:
        return (self.directory / "certs" / f"{label}.crt").read_bytes()

    def key_pem(self, label: str) -> bytes:
        return (self.directory / "keys" / f"{label}.key.pem").read_bytes()

    def material(self, label: str) -> dict[str, bytes]:
        """key_pem, cert_pem, chain_pem and roots_pem of a document-signing certificate of this PKI."""
        from portal.signing import parse_pem_certificates, pem_of

        def pem(name: str) -> bytes:
            return pem_of(parse_pem_certificates(self.certificate_der(name)))

        return {
            "key_pem": self.key_pem(label),
            "cert_pem": pem(label),
            "chain_pem": pem("issuing-ca"),
            "roots_pem": pem("root"),
        }

    def add_signer(self, *, now: datetime.datetime | None = None) -> str:
        """Issue a new document-signing certificate (a new key) from the issuing CA; returns its label.

        A running animator answers OCSP only for the certificates it was started with: restart() it.
        """
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        now = now or datetime.datetime.now(datetime.UTC)
        generations = self._generations()
        label = f"signer-{len(generations) + 2}"
        # RSA, like the first one: an ECDSA signing key makes pyHanko declare PDF 2.0, which PDF/A-2 forbids.
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (self.directory / "keys").mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / "keys" / f"{label}.key.pem", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        fmt = "%Y-%m-%dT%H:%M:%S+0000"
        start = (now - datetime.timedelta(hours=1)).astimezone(datetime.UTC)
        generations.append(
            {
                "label": label,
                "serial": secrets.randbits(63) | (1 << 62),
                "valid_from": start.strftime(fmt),
                "valid_to": (start + ROTATED_VALIDITY).strftime(fmt),
            }
        )
        self._generations_path.write_text(json.dumps(generations, indent=2))
        self.prepare()
        return label

    # --- the animator ---------------------------------------------------------------------------------

    def start(self, *, timeout: float = 30.0) -> None:
        """`certomancer --config … animate` on 127.0.0.1:port, in its own process group; returns once it answers."""
        self.prepare()
        log = open(self._log_path, "ab")  # noqa: SIM115 - the child owns it from here
        command = [
            str(Path(sys.executable).with_name("certomancer")),
            "--config",
            str(self.config_path),
            "animate",
            "--port",
            str(self.port),
            "--no-web-ui",
            "--no-time-override",
        ]
        # A fixed command: this virtualenv's certomancer and our own configuration file.
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.wait_ready(timeout=timeout)

    def wait_ready(self, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.url_prefix}/{ARCH}/crls/root/latest.crl"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  # nosec B310 - http://127.0.0.1 only
                    if response.status == 200:
                        return
            time.sleep(0.1)
        tail = self._log_path.read_text(errors="replace")[-2000:] if self._log_path.exists() else ""
        self.stop()
        raise TestPKIError(f"certomancer animate did not answer on port {self.port}:\n{tail}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def answers(self) -> bool:
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(f"{self.url_prefix}/{ARCH}/crls/root/latest.crl", timeout=2) as response:  # noqa: S310  # nosec B310
                return bool(response.status == 200)
        return False


def default_pki() -> TestPKI:
    """The `make run` PKI: TEST_PKI_DIR on TEST_PKI_PORT."""
    from django.conf import settings

    return TestPKI(settings.TEST_PKI_DIR, settings.TEST_PKI_PORT)
