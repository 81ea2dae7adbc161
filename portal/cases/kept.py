"""Drafts never lose work: what a citizen typed on a page of a draft that cannot be saved as answers yet.

Saving a draft keeps everything typed, valid or not. When a page's answers validate, the service saves them as
always and forgets what was kept for that page. When they do not (a wrong ID number, a date in the future, a refused
file), the page's typed values are kept as they were sent, with the messages that say what to fix, in the case's
`kept_inputs` (`{page: {"data": {name: [values]}, "problems": [[label, message], ...]}}`). Opening the page again
shows the kept values bound to the form, with their messages; the check page lists the problems and submission waits
until each page is saved without them. Files cannot be kept unchecked: an accepted upload is kept by its signed
token, a refused one is listed to choose again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from .models import ReviewedCase

# Form data that is not an answer: the CSRF token and the buttons.
NOT_TYPED = frozenset({"csrfmiddlewaretoken", "action", "return"})
MAX_KEPT_CHARS = 20_000  # one page's typed values; a longer value is cut (no form of the portal takes more)


def _forms_of(parts: Iterable[Any]) -> list[Any]:
    """The forms among `parts`, a formset's rows in their place."""
    found = []
    for part in parts:
        if part is None:
            continue
        if hasattr(part, "management_form"):
            found.extend(part.forms)
        else:
            found.append(part)
    return found


def problems_of(*parts: Any) -> list[list[str]]:
    """[label, message] for each error of the forms and formsets in `parts` (already validated)."""
    problems = []
    for part in parts:
        if part is None:
            continue
        if hasattr(part, "management_form"):
            problems += [["", str(message)] for message in part.non_form_errors()]
            for number, form in enumerate(part.forms, start=1):
                for label, message in problems_of(form):
                    row = _("Row %(number)d") % {"number": number}
                    problems.append([f"{row} · {label}" if label else row, message])
            continue
        for name, errors in part.errors.items():
            field = part.fields.get(name)
            label = str(field.label) if field is not None and field.label else ""
            problems += [[label, str(message)] for message in errors]
    return problems


def _field_names(parts: Iterable[Any]) -> tuple[set[str], tuple[str, ...]]:
    """The form data names the page's forms read: each field's (prefixed) name, and the prefixes of the names a
    field's sub-widgets post (a date in three parts posts `name_0`, `name_1`, …); formsets' management fields too."""
    names: set[str] = set()
    for part in parts:
        if part is not None and hasattr(part, "management_form"):
            form = part.management_form
            names.update(form.add_prefix(name) for name in form.fields)
    for form in _forms_of(parts):
        names.update(form.add_prefix(name) for name in form.fields)
    return names, tuple(f"{name}_" for name in names)


def _clean(value: str) -> str:
    # PostgreSQL's jsonb cannot hold U+0000, and no answer of the portal contains it: the form refuses it anyway.
    return value.replace("\x00", "")[:MAX_KEPT_CHARS]


def _typed(data: QueryDict, parts: Iterable[Any]) -> dict[str, list[str]]:
    # Only what the page's forms read is kept: a posted name no form has is not an answer to keep.
    parts = tuple(parts)
    names, sub_prefixes = _field_names(parts)
    typed = {
        name: [_clean(value) for value in data.getlist(name)]
        for name in data
        if name not in NOT_TYPED and (name in names or name.startswith(sub_prefixes))
    }
    # An upload accepted on this submission is kept by its token (a file input cannot be filled in again).
    for form in _forms_of(parts):
        for name, field in form.fields.items():
            keep = getattr(field, "kept_data", None)
            if keep is not None:
                typed.update(keep(form.add_prefix(name)))
    return typed


def keep_typed(
    case: ReviewedCase, page: str, *, data: QueryDict, parts: Iterable[Any] = (), problems: Iterable[Any] = ()
) -> bool:
    """Keep what was typed on `page` of the draft `case`, with what still needs fixing there.

    `parts` are the page's validated forms and formsets: their errors are the problems (with `problems`, refusals of
    the service). Written with a guarded UPDATE: False if the case left the status it was read with meanwhile.
    """
    kept = dict(case.kept_inputs or {})
    kept[page] = {"data": _typed(data, parts), "problems": [*problems_of(*parts), *[["", str(p)] for p in problems]]}
    return _write(case, kept)


def forget_typed(case: ReviewedCase, page: str) -> None:
    """The page's answers are saved: nothing typed there is waiting any more."""
    if page in (case.kept_inputs or {}):
        kept = dict(case.kept_inputs)
        del kept[page]
        _write(case, kept)


def _write(case: ReviewedCase, kept: dict[str, Any]) -> bool:
    now = timezone.now()
    updated = type(case).objects.filter(pk=case.pk, status=case.status).update(kept_inputs=kept, updated_at=now)
    if updated:
        case.kept_inputs = kept
        case.updated_at = now
    return bool(updated)


def kept_data(case: ReviewedCase, page: str) -> QueryDict | None:
    """What was typed on `page` and kept, as form data to bind the page's forms to; None when nothing waits."""
    entry = (case.kept_inputs or {}).get(page)
    if not entry:
        return None
    data = QueryDict(mutable=True)
    for name, values in entry.get("data", {}).items():
        data.setlist(name, list(values))
    return data


def kept_problems(case: ReviewedCase) -> list[tuple[str, str]]:
    """(page, "label: message") for everything kept that still needs fixing, page by page."""
    found = []
    for page, entry in (case.kept_inputs or {}).items():
        problems = entry.get("problems") or [["", _("Some answers on this page still need to be corrected.")]]
        found += [(page, f"{label}: {message}" if label else message) for label, message in problems]
    return found


def kept_message(case: ReviewedCase) -> str:
    """What the citizen is told on leaving a draft saved with answers still to correct."""
    return _("Your draft is saved with everything you typed. Some answers still need correcting: %(list)s") % {
        "list": "; ".join(message for _page, message in kept_problems(case))
    }
