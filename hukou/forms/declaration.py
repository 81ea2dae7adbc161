"""The declaration of truthfulness at submission, and the answer to a request for more information."""

from django import forms
from django.utils.translation import gettext_lazy as _

DECLARATION = _(
    "I declare that the information I have given is true and complete, that the people named agree to the move, and "
    "that the uploaded documents are genuine. I know that false information may lead to refusal and to legal "
    "consequences."
)


class SubmitForm(forms.Form):
    declaration = forms.BooleanField(
        label=DECLARATION,
        error_messages={"required": _("Tick the declaration to confirm that the information is true.")},
    )


class ReplyForm(forms.Form):
    """The answer to a request for more information; sending it restarts the office's clock."""

    reply = forms.CharField(
        label=_("Your answer"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Say what you changed or added. At most 2000 characters."),
        error_messages={"required": _("Answer the request: say what you changed or added.")},
    )
    declaration = forms.BooleanField(
        label=DECLARATION,
        error_messages={"required": _("Tick the declaration to confirm that the information is true.")},
    )

    def clean_reply(self):
        return self.cleaned_data["reply"].strip()
