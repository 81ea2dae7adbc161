"""What every service's URLconf shares: converters that let only a valid value reach a view, and the case's pages.

Stable URLs, printed in letters and e-mails: docs/architecture.md#stable-urls.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from django.urls import URLPattern, path, register_converter

from .services import CASE_NUMBER_TAIL


class _Verbatim:
    """A converter whose value is the matched text itself; subclasses give the `regex`."""

    regex = ""

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def converter(name: str, regex: str) -> None:
    """Register the path converter `name` for values matching `regex` (a case number, a section, a catalogue key)."""
    register_converter(type(f"{name}_converter", (_Verbatim,), {"regex": regex}), name)


def case_number_converter(name: str, prefix: str) -> None:
    """PREFIX-YYYYMMDD-XXXX-XXXX (or the older PREFIX-YYYYMMDD-NNNNN): only what a case number can look like."""
    converter(name, prefix + CASE_NUMBER_TAIL)


def case_pages(views: ModuleType, case: str, extra: Iterable[tuple[str, str]] = ()) -> list[URLPattern]:
    """The citizen's pages of one case, named alike in every service: its status page, the check of the answers,
    the page after submission, withdrawal and deletion of a draft; `extra` adds (path below the case, view name)."""
    base = f"<{case}:case_number>/"
    pages = [("", "detail"), ("check/", "check"), ("submitted/", "submitted"), *extra]
    pages += [("withdraw/", "withdraw"), ("delete/", "delete")]
    return [
        path(base + tail, getattr(views, "delete_draft" if name == "delete" else name), name=name)
        for tail, name in pages
    ]
