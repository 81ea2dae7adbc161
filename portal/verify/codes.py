"""Verification and share codes: Crockford base32 characters from `secrets` in groups of four.

A verification code has 20 characters (100 bits), a share code 24 (120 bits); both are read aloud and typed.
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 20
SHARE_LENGTH = 24
# What people mistype or misread, as Crockford decoding allows.
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_code(length: int = LENGTH) -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return format_code(raw)


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalize_code(text: str, length: int = LENGTH) -> str | None:
    """Accept lower case, spaces, missing or extra hyphens and I/L/O for 1/1/0; None if it cannot be a code."""
    cleaned = "".join(ch for ch in (text or "").upper() if ch.isalnum()).translate(_READ_AS)
    if len(cleaned) != length or any(ch not in ALPHABET for ch in cleaned):
        return None
    return format_code(cleaned)
