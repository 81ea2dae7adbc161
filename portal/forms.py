"""Forms of the shared pages."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .formmessages import RequiredMessagesMixin


class TrackForm(RequiredMessagesMixin, forms.Form):
    case_number = forms.CharField(
        label=_("Case number"), max_length=40, help_text=_("As shown after you submitted, e.g. NCR-20261124-7KQ2-M9XD.")
    )
    second_factor = forms.CharField(
        label=_("Last four characters of the applicant's ID number"),
        max_length=20,
        help_text=_("For a certificate applied for by an agent, the holder's ID number also counts."),
    )

    def clean_case_number(self) -> str:
        return self.cleaned_data["case_number"].strip().upper()

    def clean_second_factor(self) -> str:
        return self.cleaned_data["second_factor"].strip()


class PlainTextFormMixin(RequiredMessagesMixin):
    """Every text field of the form refuses invisible control characters (right-to-left overrides, zero-width
    characters): line breaks are allowed where the widget is a textarea (accounts.validators)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from accounts.validators import validate_multiline, validate_single_line

        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field, forms.CharField):
                continue
            validator = validate_multiline if isinstance(field.widget, forms.Textarea) else validate_single_line
            if validator not in field.validators:
                field.validators = [*field.validators, validator]


class DraftFormMixin(PlainTextFormMixin):
    """A form a citizen may save as a draft: unanswered questions wait, wrong answers do not.

    With `draft=True`, errors with the code "required" are dropped after validation, so what was answered is saved
    and the check-your-answers page lists the rest; any other error (a bad ID number, a refused file) still stops
    the save. Services that need an answer in every case raise it with another code.
    """

    if TYPE_CHECKING:
        from django.forms.utils import ErrorDict

        _errors: ErrorDict  # BaseForm's, filled by full_clean() (private: django-stubs leaves it out)

    def __init__(self, *args: Any, draft: bool = False, **kwargs: Any) -> None:
        self.draft = draft
        super().__init__(*args, **kwargs)

    def full_clean(self) -> None:
        super().full_clean()
        if not self.draft:
            return
        for name, errors in list(self._errors.items()):
            remaining = [error for error in errors.as_data() if error.code != "required"]
            if not remaining:
                del self._errors[name]
            elif len(remaining) != len(errors.as_data()):
                self._errors[name] = self.error_class(remaining, renderer=self.renderer)
