"""Uploads: the powers of attorney and the receiving householder's consent, and the documents of each kind."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.documents.forms import PrivateFileField, PrivateFilesField, PrivateUploadFormMixin
from portal.documents.validation import ID_DOCUMENT_RULES
from portal.forms import DraftFormMixin

from ..constants import MAX_FILES_PER_KIND, UPLOAD_KINDS, DocumentKind


class AuthorisationsForm(DraftFormMixin, PrivateUploadFormMixin, forms.Form):
    """A power of attorney for each absent party, and the receiving householder's consent when a family member applies.

    Built from the answers so far; a document already uploaded is kept unless replaced.
    """

    def __init__(self, *args, absent_movers=(), receiving_absent=False, consent_needed=False, current=None, **kwargs):
        current = current or {}
        kwargs.setdefault("initial", {name: doc for name, doc in current.items() if doc is not None})
        super().__init__(*args, **kwargs)
        for mover in absent_movers:
            self._add(
                f"mover_{mover.pk}",
                _("Power of attorney of %(name)s") % {"name": mover.name},
                _("Signed by %(name)s, who does not come in person.") % {"name": mover.name},
                _("Upload the power of attorney of %(name)s, who does not come in person.") % {"name": mover.name},
                DocumentKind.POWER_OF_ATTORNEY,
            )
        if receiving_absent:
            self._add(
                "receiving_power_of_attorney",
                _("Power of attorney of the person applying for the household you join"),
                _("They do not come in person, so they hand over their papers with a signed power of attorney."),
                _("Upload the power of attorney of the person applying for the household you join."),
                DocumentKind.POWER_OF_ATTORNEY,
            )
        if consent_needed:
            self._add(
                "householder_consent",
                DocumentKind.HOUSEHOLDER_CONSENT.label,
                _("Signed by the head of the household you join, agreeing that the family member applies for them."),
                _("Upload the written consent of the head of the household you join."),
                DocumentKind.HOUSEHOLDER_CONSENT,
            )

    def _add(self, name, label, help_text, required_message, kind):
        field = PrivateFileField(
            label=label,
            help_text=help_text,
            rules=ID_DOCUMENT_RULES,
            kind=kind,
            error_messages={"required": required_message},
        )
        field.owner = self.owner
        self.fields[name] = field

    def mover_documents(self) -> dict:
        return {
            int(name.removeprefix("mover_")): document
            for name, document in self.cleaned_data.items()
            if name.startswith("mover_")
        }


UPLOAD_LABELS = {
    DocumentKind.ID_CARD: _("Add ID cards"),
    DocumentKind.BOOKLET: _("Add booklet pages"),
    DocumentKind.EVIDENCE: _("Add the materials for your move"),
}
UPLOAD_HELP = {
    DocumentKind.ID_CARD: _(
        "Front and back of the ID card of each person moving who has one (one file each side, or a PDF with both); "
        "choose several files at once if you like: JPEG, PNG or PDF, at most 10 MB each."
    ),
    DocumentKind.BOOKLET: _(
        "The booklet's first page (with the head of household) and the page of each person moving, several at once if "
        "you like: JPEG, PNG or PDF, at most 10 MB each."
    ),
    DocumentKind.EVIDENCE: _(
        "The materials listed above for your move, several at once if you like: JPEG, PNG or PDF, at most 10 MB each."
    ),
}
UPLOAD_REQUIRED = {
    DocumentKind.ID_CARD: _("Upload the ID cards of the people moving."),
    DocumentKind.BOOKLET: _("Upload the pages of the Household Register Booklet."),
    DocumentKind.EVIDENCE: _("Upload the materials for your category of move."),
}


class DocumentsForm(DraftFormMixin, PrivateUploadFormMixin, forms.Form):
    """New files of each kind, several at once (each adds to those uploaded); in a draft, files can be removed."""

    remove = forms.MultipleChoiceField(
        label=_("Remove files"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick the files uploaded by mistake; they are deleted when you save."),
    )

    def __init__(self, *args, current=None, allow_remove=True, **kwargs):
        self.current = current or {}  # kind -> list of attached documents
        super().__init__(*args, **kwargs)
        for kind in UPLOAD_KINDS:
            field = PrivateFilesField(
                label=UPLOAD_LABELS[kind],
                help_text=UPLOAD_HELP[kind],
                rules=ID_DOCUMENT_RULES,
                kind=kind,
                required=False,
                max_files=MAX_FILES_PER_KIND,
            )
            field.owner = self.owner
            self.fields[kind] = field
        existing = [d for kind in UPLOAD_KINDS for d in self.current.get(kind, ())]
        if allow_remove and existing:
            self.fields["remove"].choices = [(str(d.public_id), d.original_name or d.kind) for d in existing]
            # Removal comes last, after the uploads.
            self.fields["remove"] = self.fields.pop("remove")
        else:
            del self.fields["remove"]

    def removed(self) -> list:
        chosen = set(self.cleaned_data.get("remove") or ())
        return [d for kind in UPLOAD_KINDS for d in self.current.get(kind, ()) if str(d.public_id) in chosen]

    def clean(self):
        cleaned = super().clean()
        removed = {d.pk for d in self.removed()} if "remove" in self.fields else set()
        for kind in UPLOAD_KINDS:
            if kind in self.errors:
                continue
            left = [d for d in self.current.get(kind, ()) if d.pk not in removed]
            new = len(cleaned.get(kind) or ())
            if not left and not new:
                self.add_error(kind, ValidationError(UPLOAD_REQUIRED[kind], code="required"))
            elif len(left) + new > MAX_FILES_PER_KIND:
                self.add_error(
                    kind,
                    ValidationError(
                        _("At most %(max)d files of this kind; remove one first."),
                        code="too_many",
                        params={"max": MAX_FILES_PER_KIND},
                    ),
                )
        return cleaned

    def uploads(self) -> list:
        return [document for kind in UPLOAD_KINDS for document in self.cleaned_data.get(kind) or ()]
