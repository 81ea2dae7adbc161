"""Generate the TEST ONLY keys of the development and test PKI (portal/pki/certomancer.yml), once.

The keys are committed so that every checkout, CI run and test worker has the same root, CAs and TSA; they protect
nothing. Production uses the province CA's keys, never these (docs/deploy.md#signing-keys-and-the-pki).
Run again only to replace them: `python portal/pki/make_test_keys.py --force [NAME ...]`.
"""

import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

KEYS = Path(__file__).resolve().parent / "keys"
# root and issuing CA, their OCSP responder, the timestamp authority, the portal's first document-signing key, and a
# stranger: a second document-signing key of the same CA that the portal never registers (tests).
NAMES = ("root", "issuing-ca", "ocsp", "tsa", "signer-1", "stranger")
HEADER = b"# TEST ONLY: Henan e-Services development/test PKI key, public in the repository. Never use in production.\n"


# Document-signing keys are RSA: with an ECDSA signing key pyHanko declares the document PDF 2.0 (ISO 32002), which
# a PDF/A-2 file must not be.
SIGNING_KEYS = ("signer-1", "stranger")


def generate_key_pem(name: str = "") -> bytes:
    private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if name in SIGNING_KEYS:
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    else:
        # ECDSA P-256 for the CA, OCSP and TSA keys: certomancer loads the key for every OCSP answer, CRL and
        # timestamp, and an RSA key's load-time consistency check alone costs ~60 ms each time (P-256: < 1 ms).
        private = ec.generate_private_key(ec.SECP256R1())
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def main(force: bool, only: list[str]) -> None:
    KEYS.mkdir(exist_ok=True)
    for name in only or NAMES:
        path = KEYS / f"{name}.key.pem"
        if path.exists() and not force:
            continue
        path.write_bytes(HEADER + generate_key_pem(name))
        print(f"wrote {path}")


if __name__ == "__main__":
    main(force="--force" in sys.argv[1:], only=[a for a in sys.argv[1:] if not a.startswith("--")])
