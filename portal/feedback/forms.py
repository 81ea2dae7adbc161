"""Citizen forms of ratings, complaints, suggestions and consultations; the rules themselves live in services.py."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.forms import PlainTextFormMixin

from . import cases, services
from .models import FeedbackKind, RatingLevel


class OfficeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} ({obj.address})" if obj.address else str(obj)


def office_field(**kwargs):
    return OfficeChoiceField(
        queryset=services.feedback_offices(),
        label=_("Office"),
        empty_label=_("Choose an office"),
        **kwargs,
    )


class RatingForm(PlainTextFormMixin, forms.Form):
    """Five levels, the reasons in two groups (what went well, what went wrong), and a comment."""

    level = forms.TypedChoiceField(
        label=_("Your rating"),
        coerce=int,
        choices=sorted(RatingLevel.choices, reverse=True),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )
    reasons = forms.MultipleChoiceField(
        label=_("Reasons"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "With “Satisfied” or “Very satisfied”, choose what went well; with “Dissatisfied” or “Very dissatisfied”, "
            "choose at least one thing that went wrong. With “Fairly satisfied” you may choose from both lists."
        ),
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Please do not write ID numbers or other personal data here."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reasons"].choices = [  # type: ignore[attr-defined]  # a MultipleChoiceField
            (_("What went well"), [(r.code, r.label) for r in services.GOOD_REASONS]),
            (_("What went wrong"), [(r.code, r.label) for r in services.POOR_REASONS]),
        ]

    def clean(self):
        cleaned = super().clean() or {}
        if "level" in cleaned:
            try:
                level, reasons, comment = services.clean_rating(
                    cleaned["level"], cleaned.get("reasons"), cleaned.get("comment")
                )
            except ValidationError as exc:
                self.add_error(None, exc)
            else:
                cleaned.update(level=level, reasons=reasons, comment=comment)
        return cleaned


class OfficeRatingForm(RatingForm):
    field_order = ("office", "level", "reasons", "comment")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"] = office_field(help_text=_("You can rate each office once a month."))
        self.order_fields(self.field_order)


class CaseChoiceField(forms.ChoiceField):
    """One of the citizen's submitted cases of any service (value "service:case number"), cleaned to a CaseRef."""

    def __init__(self, *, user, **kwargs):
        self.refs = {f"{ref.service}:{ref.case_number}": ref for ref in cases.citizen_cases(user)}
        choices = [("", _("None"))] + [(key, f"{ref.case_number} · {ref.title}") for key, ref in self.refs.items()]
        super().__init__(choices=choices, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return self.refs.get(value) if value else None


class FeedbackForm(PlainTextFormMixin, forms.Form):
    """A complaint, suggestion or consultation; which fields it has depends on the kind."""

    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args, kind: str, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        named_case = kind in (FeedbackKind.COMPLAINT, FeedbackKind.CONSULTATION)
        fields = {"office": office_field(required=not named_case)}
        if named_case:
            fields["office"].help_text = _("Not needed if you choose one of your applications below.")
            fields["application"] = CaseChoiceField(
                user=user, label=_("Your application concerned (optional)"), required=False
            )
        if kind == FeedbackKind.COMPLAINT:
            fields["staff_named"] = forms.CharField(
                label=_("Member of staff concerned (optional)"),
                max_length=120,
                required=False,
                help_text=_("Their name or badge number, if you know it."),
            )
        self.fields = {**fields, **self.fields}
        if kind == FeedbackKind.CONSULTATION:
            self.fields["subject"].label = _("What is your question about?")
            self.fields["body"].label = _("Your question")
        self.fields["body"].help_text = _("Please do not write ID numbers or other personal data you need not give.")


class AnonymousConsultationForm(PlainTextFormMixin, forms.Form):
    """A question without an account: who to answer, where, and the question (portal.feedback.anonymous)."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=80,
        error_messages={"required": _("Enter your name, so the office can address you.")},
    )
    email = forms.EmailField(
        label=_("Your e-mail address"),
        help_text=_("The answer comes here, with a link to read it on the portal."),
        error_messages={
            "required": _("Enter the e-mail address the answer should go to, like name@example.com."),
            "invalid": _("Enter the e-mail address the answer should go to, like name@example.com."),
        },
    )
    subject = forms.CharField(label=_("What is your question about?"), max_length=200)
    body = forms.CharField(label=_("Your question"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {
            "name": self.fields["name"],
            "email": self.fields["email"],
            "office": office_field(),
            **{key: self.fields[key] for key in ("subject", "body")},
        }
        self.fields["body"].help_text = _("Please do not write ID numbers or other personal data you need not give.")
