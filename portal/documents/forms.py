"""PrivateFileField: a service form's upload, validated in clean() and kept across a re-displayed form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Document
from .validation import UploadRules, accepted_list

if TYPE_CHECKING:
    from accounts.models import User

    # The mixin comes before forms.Form in a form class.
    _FormBase = forms.BaseForm
else:
    _FormBase = object

TOKEN_SUFFIX = "__kept"  # noqa: S105 - a form field suffix, not a secret  # nosec B105


@dataclass(frozen=True)
class KeptUpload:
    """An upload validated on an earlier submission: the signed token and the name to show."""

    token: str
    name: str = ""

    @classmethod
    def for_document(cls, document):
        return cls(token=services.document_keep_token(document=document), name=document.original_name)


def _upload_help_text(rules) -> str:
    return gettext("%(types)s, at most %(size)s MB.") % {
        "types": accepted_list(rules.allowed),
        "size": f"{rules.max_bytes / (1024 * 1024):g}",
    }


_upload_help = lazy(_upload_help_text, str)


class PrivateFileInput(forms.Widget):
    """A file input plus, once a file was accepted, its name and a hidden signed token.

    Deliberately not a FileInput subclass: crispy-forms draws FileInputs with its own markup, which
    would drop the token.
    """

    template_name = "documents/widgets/private_file.html"
    needs_multipart_form = True
    input_type = "file"

    def format_value(self, value):
        return None  # a browser cannot be given a file back; the kept upload travels as the token

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        kept = value if isinstance(value, KeptUpload) else None
        widget = context["widget"]
        widget["type"] = self.input_type
        widget["kept"] = kept
        widget["token_name"] = name + TOKEN_SUFFIX
        if kept:
            # The file was already accepted: choosing it again must not be required by the browser.
            widget["attrs"].pop("required", None)
        return context

    def value_from_datadict(self, data, files, name):
        upload = files.get(name)
        if upload:
            return upload
        token = data.get(name + TOKEN_SUFFIX)
        return KeptUpload(token=token) if token else None

    def value_omitted_from_data(self, data, files, name):
        return name not in files and (name + TOKEN_SUFFIX) not in data


class PrivateFileField(forms.FileField):
    """Validates with the same rules as document_create and returns the stored, unattached Document.

    The form must tell the field whose upload it is (PrivateUploadFormMixin does, from `owner=`).
    After validation the view attaches the document to its case with services.document_attach.
    """

    widget = PrivateFileInput
    default_error_messages = {
        **forms.FileField.default_error_messages,
        "expired": _("Your earlier upload could not be kept; choose the file again."),
    }

    def __init__(self, *, rules: UploadRules | None = None, kind: str = "", **kwargs):
        self.rules = rules or UploadRules()
        self.kind = kind
        self.owner: User | None = None
        self._document: Document | None = None
        kwargs.setdefault("allow_empty_file", False)
        super().__init__(**kwargs)
        if not self.help_text:
            # Lazy: fields are built at import, the language is chosen per request.
            self.help_text = _upload_help(self.rules)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        # A hint for the file chooser only; the server decides by content.
        attrs["accept"] = ",".join(
            {"jpeg": "image/jpeg,.jpg,.jpeg", "png": "image/png,.png", "pdf": "application/pdf,.pdf"}[f]
            for f in self.rules.allowed
        )
        return attrs

    def _owner(self):
        if self.owner is None:
            raise ImproperlyConfigured("PrivateFileField needs an owner: use PrivateUploadFormMixin(owner=user).")
        return self.owner

    def to_python(self, data):
        return data

    def clean(self, data, initial=None):
        self._document = None
        if self.disabled:
            return initial
        if isinstance(data, UploadedFile):
            self._document = services.document_create(
                owner=self._owner(), uploaded_file=data, kind=self.kind, rules=self.rules
            )
            return self._document
        if isinstance(data, KeptUpload):
            document = services.document_from_token(token=data.token, owner=self._owner(), kind=self.kind)
            if document is None:
                raise ValidationError(self.error_messages["expired"], code="expired")
            self._document = document
            return document
        if isinstance(initial, Document):
            self._document = initial
            return initial
        if self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return None

    def bound_data(self, data, initial):
        if self._document is not None:
            return KeptUpload.for_document(self._document)
        if isinstance(data, KeptUpload) and self.owner is not None:
            document = services.document_from_token(token=data.token, owner=self.owner, kind=self.kind)
            return KeptUpload.for_document(document) if document else None
        if isinstance(initial, Document):
            return KeptUpload.for_document(initial)
        return None

    def prepare_value(self, value):
        return KeptUpload.for_document(value) if isinstance(value, Document) else value

    def has_changed(self, initial, data):
        return not self.disabled and data is not None

    def kept_data(self, name: str) -> dict[str, list[str]]:
        """The form data that brings the upload accepted by the last clean() back (portal.cases.kept)."""
        if self._document is None:
            return {}
        return {name + TOKEN_SUFFIX: [services.document_keep_token(document=self._document)]}


class PrivateFilesInput(PrivateFileInput):
    """Several files chosen at once (`multiple`), plus the name and token of each already accepted."""

    template_name = "documents/widgets/private_files.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, None, {**(attrs or {}), "multiple": True})
        context["widget"]["kept_list"] = [item for item in value or () if isinstance(item, KeptUpload)]
        return context

    def value_from_datadict(self, data, files, name):
        uploads = [upload for upload in files.getlist(name) if upload]
        tokens = data.getlist(name + TOKEN_SUFFIX) if hasattr(data, "getlist") else []
        return uploads + [KeptUpload(token=token) for token in tokens if token]


class PrivateFilesField(PrivateFileField):
    """Several uploads of one kind in one submission (one at a time still works): a list of stored Documents.

    Each file is checked on its own: the accepted ones are kept (by token) when another is refused, and each refusal
    names its file.
    """

    widget = PrivateFilesInput

    def __init__(self, *, max_files: int = 10, **kwargs):
        self.max_files = max_files
        self._documents: list[Document] = []
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        self._documents, errors = [], []
        for item in data or ():
            if isinstance(item, UploadedFile):
                try:
                    document = services.document_create(
                        owner=self._owner(), uploaded_file=item, kind=self.kind, rules=self.rules
                    )
                except ValidationError as exc:
                    errors += [
                        ValidationError(
                            gettext("%(name)s: %(message)s") % {"name": item.name, "message": message}, code=exc.code
                        )
                        for message in exc.messages
                    ]
                    continue
            else:
                kept = services.document_from_token(token=item.token, owner=self._owner(), kind=self.kind)
                if kept is None:
                    errors.append(ValidationError(self.error_messages["expired"], code="expired"))
                    continue
                document = kept
            if document not in self._documents:
                self._documents.append(document)
        if len(self._documents) > self.max_files:
            errors.append(
                ValidationError(
                    gettext("At most %(max)d files at once.") % {"max": self.max_files}, code="too_many_at_once"
                )
            )
        if errors:
            raise ValidationError(errors)
        if not self._documents and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return list(self._documents)

    def bound_data(self, data, initial):
        return [KeptUpload.for_document(document) for document in self._documents]

    def prepare_value(self, value):
        return [KeptUpload.for_document(v) if isinstance(v, Document) else v for v in value or ()]

    def has_changed(self, initial, data):
        return not self.disabled and bool(data)

    def kept_data(self, name: str) -> dict[str, list[str]]:
        if not self._documents:
            return {}
        return {name + TOKEN_SUFFIX: [services.document_keep_token(document=d) for d in self._documents]}


class PrivateUploadFormMixin(_FormBase):
    """Give every PrivateFileField of the form its owner: `MyForm(request.POST, request.FILES, owner=request.user)`."""

    def __init__(self, *args: Any, owner: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        for field in self.fields.values():
            if isinstance(field, PrivateFileField):
                field.owner = owner
