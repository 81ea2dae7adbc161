"""Usernames: a small documented set of characters, and none that looks like a name already taken.

The set (docs/security.md, "Usernames"): the ASCII letters a–z and A–Z, the digits 0–9, "_", "." and "-", and the
Han characters of the CJK Unified Ideographs block (U+4E00–U+9FFF). Cyrillic "с", Greek "ο", the dotless "ı" and
full-width letters are refused outright, so a new "сitizen" cannot pass for "citizen".

Within the set, characters still look alike ("0" and "O", "1", "l" and "I", "rn" and "m"), and older accounts may
hold any letter Django allowed before. So a username is also compared by its confusable skeleton (Unicode UTS #39,
computed by ICU's SpoofChecker through PyICU), after NFKC and case folding, with the skeletons of every existing
account, kept in the indexed column User.username_skeleton.
"""

import functools
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

USERNAME_PUNCTUATION = frozenset("_.-")
HAN_FIRST, HAN_LAST = 0x4E00, 0x9FFF


def allowed_username_character(ch: str) -> bool:
    return (
        ("a" <= ch <= "z")
        or ("A" <= ch <= "Z")
        or ("0" <= ch <= "9")
        or ch in USERNAME_PUNCTUATION
        or HAN_FIRST <= ord(ch) <= HAN_LAST
    )


@deconstructible
class UsernameCharactersValidator:
    """Refuse any character outside the documented set, naming it."""

    message = _(
        "A username may contain only the letters a–z and A–Z, digits, Chinese characters and _ . - ; "
        "“%(char)s” (U+%(code)s) is not one of them."
    )
    code = "username_characters"

    def __call__(self, value: str) -> None:
        for ch in str(value or ""):
            if not allowed_username_character(ch):
                shown = ch if ch.isprintable() and not ch.isspace() else " "
                raise ValidationError(self.message, code=self.code, params={"char": shown, "code": f"{ord(ch):04X}"})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UsernameCharactersValidator)


validate_username_characters = UsernameCharactersValidator()


@functools.cache
def _spoof_checker() -> Any:  # PyICU has no type information
    import icu

    return icu.SpoofChecker()


def username_skeleton(username: str) -> str:
    """The UTS #39 skeleton of a username, case-insensitive: two names with one skeleton look the same."""
    folded = unicodedata.normalize("NFKC", username or "").casefold()
    return _spoof_checker().getSkeleton(0, folded).casefold()


def username_skeletons(username: str) -> set[str]:
    """What a new username is compared by: its stored skeleton, and the skeleton of the name as typed (case
    folded after), so that a capital "I" typed where another account has a lower-case "l" is found too."""
    as_typed = _spoof_checker().getSkeleton(0, unicodedata.normalize("NFKC", username or "")).casefold()
    return {username_skeleton(username), as_typed}


def username_confusable_taken(username: str, *, exclude_pk: int | None = None) -> bool:
    """Whether another account's username looks like this one (one of its skeletons is theirs)."""
    from .models import User

    return User.objects.filter(username_skeleton__in=username_skeletons(username)).exclude(pk=exclude_pk).exists()
