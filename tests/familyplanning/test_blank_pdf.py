"""The blank PDF forms: drawn from the same definitions as the online forms, with version and date."""

import io
import re
import unicodedata

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from pypdf import PdfReader

from familyplanning import catalogue
from familyplanning.fields import FieldDef, Kind, build_form, render_blank_pdf

A4_POINTS = (595, 842)


def flat(text) -> str:
    """Whitespace out and compatibility forms folded (ligatures), so wrapped lines still match."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))


def pdf_text(data: bytes) -> str:
    return flat("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


@pytest.fixture(scope="module")
def blank_pdfs():
    """Each service's blank form rendered once, in English (the msgids), for the whole module."""
    return {key: render_blank_pdf(service.form, language="en") for key, service in catalogue.SERVICES.items()}


def form_labels(form_def):
    """Every label the online form shows, per definition (a person's label is the group's)."""
    labels = []
    for definition in form_def.fields:
        labels.append(definition.label)
        labels.extend(label for _value, label in definition.choices)
    return labels


@pytest.mark.parametrize("key", list(catalogue.SERVICES))
def test_the_blank_form_names_every_field_its_online_form_has(blank_pdfs, key):
    service = catalogue.get_service(key)
    text = pdf_text(blank_pdfs[key])
    with translation.override("en"):
        online = build_form(service.form)()
        missing = [str(label) for label in form_labels(service.form) if flat(label) not in text]
        assert not missing, f"{key}: the blank form lacks {missing}"
        # Every online field belongs to a definition printed above (a person's two fields to its group).
        printed = {name for d in service.form.fields for name in d.form_field_names}
        assert set(online.fields) == printed
        assert flat(service.title) in text
        assert flat("Signature of the applicant") in text
    assert flat(f"version {service.form.version} of {service.form.date:%Y-%m-%d}") in text


def test_blank_forms_are_a4(blank_pdfs):
    for data in blank_pdfs.values():
        box = PdfReader(io.BytesIO(data)).pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == A4_POINTS


def test_adding_a_field_definition_changes_the_online_form_and_the_blank_pdf(blank_pdfs):
    service = catalogue.get_service("practice_licence")
    label = _("Number of ambulances on call")
    changed = service.form.adding(FieldDef("ambulances", label, Kind.INTEGER), section=1)
    with translation.override("en"):
        assert flat(label) not in pdf_text(blank_pdfs["practice_licence"])
        assert "ambulances" not in build_form(service.form)().fields
        assert "ambulances" in build_form(changed)().fields
        assert flat(label) in pdf_text(render_blank_pdf(changed, language="en"))


def test_the_blank_form_renders_in_chinese_with_the_cjk_font():
    data = render_blank_pdf(catalogue.get_service("birth_registration_cancellation").form, language="zh-hans")
    reader = PdfReader(io.BytesIO(data))
    fonts = {
        str(font.get_object()["/BaseFont"]) for page in reader.pages for font in page["/Resources"]["/Font"].values()
    }
    assert any("WenQuanYi" in f or "Noto" in f for f in fonts), fonts
    assert flat(catalogue.FORM_VERSION) in pdf_text(data)
