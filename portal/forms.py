"""Forms of the shared pages."""
from django import forms
from django.utils.translation import gettext_lazy as _


class TrackForm(forms.Form):
    case_number = forms.CharField(
        label=_("Case number"), max_length=32, help_text=_("As shown after you submitted, e.g. NCR-20261124-00001.")
    )
    second_factor = forms.CharField(
        label=_("Applicant's name, or the last four characters of the ID number"), max_length=60
    )

    def clean_case_number(self):
        return self.cleaned_data["case_number"].strip().upper()

    def clean_second_factor(self):
        return self.cleaned_data["second_factor"].strip()
