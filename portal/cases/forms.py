"""The citizen's submission form every reviewed service shares (docs/architecture.md#forms)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_multiline
from portal.formmessages import RequiredMessagesMixin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class SubmissionForm(RequiredMessagesMixin, forms.Form):
    """The declaration of truthfulness that submits an application and, when the submission answers a request for
    more information (`resubmit`), the answer to the office (`reply`, then required). A service's form declares its
    own `declaration` field and names its office in `reply_label` and `reply_required`."""

    reply_label: StrOrPromise = _("Your answer to the office")
    reply_required: StrOrPromise = _("Answer the office's request: say what you changed or added.")

    reply = forms.CharField(
        required=False,
        max_length=2000,
        validators=[validate_multiline],
        help_text=_("Say what you changed or added. At most 2000 characters."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, resubmit: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resubmit = resubmit
        if resubmit:
            reply = self.fields["reply"]
            reply.label = self.reply_label
            reply.required = True
            reply.error_messages["required"] = self.reply_required
        else:
            del self.fields["reply"]

    def clean_reply(self) -> str:
        return str(self.cleaned_data["reply"]).strip()
