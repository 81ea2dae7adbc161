"""Generate the TEST ONLY keys of the development and test PKI (portal/pki/certomancer.yml), once.

The keys are committed so that every checkout, CI run and test worker has the same root, CAs and TSA; they protect
nothing. Production uses the province CA's keys, never these (docs/deploy.md#signing-keys-and-the-pki).
Run again only to replace them all: `python portal/pki/make_test_keys.py --force`.
"""

import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEYS = Path(__file__).resolve().parent / "keys"
# root and issuing CA, their OCSP responder, the timestamp authority, the portal's first document-signing key, and a
# stranger: a second document-signing key of the same CA that the portal never registers (tests).
NAMES = ("root", "issuing-ca", "ocsp", "tsa", "signer-1", "stranger")
HEADER = b"# TEST ONLY: Henan e-Services development/test PKI key, public in the repository. Never use in production.\n"


def generate_key_pem() -> bytes:
    # ECDSA P-256: certomancer loads the key for every OCSP answer, CRL and timestamp, and an RSA key's load-time
    # consistency check alone costs ~60 ms each time (against well under 1 ms for P-256).
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def main(force: bool) -> None:
    KEYS.mkdir(exist_ok=True)
    for name in NAMES:
        path = KEYS / f"{name}.key.pem"
        if path.exists() and not force:
            continue
        path.write_bytes(HEADER + generate_key_pem())
        print(f"wrote {path}")


if __name__ == "__main__":
    main(force="--force" in sys.argv[1:])
