"""Messages every form shares: a required field left empty names what is missing, made from the field's label.

In the portal's base layer, so that accounts' forms use it as well as the services' (docs/architecture.md#forms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext

if TYPE_CHECKING:
    # The mixins come before forms.Form in a form class.
    _FormBase = forms.BaseForm
else:
    _FormBase = object


# Django's own "This field is required." (这个字段是必填项。): a field still carrying it gets one made from its label.
GENERIC_REQUIRED = forms.Field.default_error_messages["required"]


def _label_text(label: Any) -> str:
    """A label inside a sentence: without a closing colon; in English with a small first letter ("Real name" →
    "real name"), unless the first word is an abbreviation or "I" ("ID number", "I agree")."""
    text = str(label).strip().rstrip(":：").strip()
    first_word = text.split(" ", 1)[0]
    if len(first_word) > 1 and first_word[0].isupper() and not first_word[1:].isupper():
        text = text[0].lower() + text[1:]
    return text


def _required_message(field: forms.Field) -> str:
    label = _label_text(field.label)
    if label.endswith(("?", "？")):
        return gettext("Answer the question “%(label)s”") % {"label": label}
    if isinstance(field, forms.FileField):
        return gettext("Upload %(label)s") % {"label": label}
    if isinstance(field, forms.BooleanField):
        return gettext("Tick “%(label)s” to go on") % {"label": label}
    if isinstance(field, forms.ChoiceField | forms.ModelChoiceField) or isinstance(field.widget, forms.Select):
        return gettext("Choose %(label)s") % {"label": label}
    return gettext("Enter %(label)s") % {"label": label}


def _interpolate(message: Any, params: dict[str, Any]) -> str:
    return str(message) % {key: str(value) for key, value in params.items()}


# A translated message with its (lazy) parameters filled in when it is shown, in that request's language.
lazy_interpolate = lazy(_interpolate, str)

# Lazy: the message is worded when shown, in the language of that request.
required_message = lazy(_required_message, str)


def give_required_messages(form: forms.BaseForm) -> None:
    """Every field of `form` that would say only "This field is required." says what is missing instead, made from
    its label ("请输入真实姓名", "Enter real name"; "请选择派出所"; a question: "请回答“…”"). Messages a form sets
    itself are kept (docs/architecture.md#forms)."""
    for field in form.fields.values():
        if field.label and field.error_messages.get("required") == GENERIC_REQUIRED:
            field.error_messages = {**field.error_messages, "required": required_message(field)}


class RequiredMessagesMixin(_FormBase):
    """A form whose required fields each name what is missing (give_required_messages)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        give_required_messages(self)


def radio_choice(label: Any, choices: Any, required_message: Any, **options: Any) -> forms.ChoiceField:
    """A choice among radio buttons; `required_message`, the message when none is chosen (what to choose, in the
    page's words, rather than one made from the label)."""
    return forms.ChoiceField(
        label=label, choices=choices, widget=forms.RadioSelect, error_messages={"required": required_message}, **options
    )
