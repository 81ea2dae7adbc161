"""Addresses in structured parts: province → city → district or county (GB/T 2260 codes, accounts.divisions), then
the street or township and the rest (number, building, flat) as text; with and without JavaScript.

`AddressField` is a MultiValueField of five parts. Its widget draws the province, city and district as selects (Henan
first and chosen when nothing is), the city list of the province chosen and the district list of the city chosen.
Without JavaScript an "Update the lists" button sends the form: the form (`AddressFormMixin`) is not valid, keeps
everything typed, reports no missing answer, and comes back with the lists of the province and city now chosen. With
JavaScript (static/js/portal.js) the lists follow the choices at once (`divisions_json` gives a division's children)
and the button is hidden. The field cleans to an `Address`; the mixin stores its parts in the model fields
`<parts>_province`, `<parts>_city`, `<parts>_district`, `<parts>_street`, `<parts>_detail` and the composed one-line
text (`Address.text`, "河南省郑州市金水区花园路街道经八路12号") in the address field itself, which every page, PDF
and the admin keep showing. An old free-text address without parts opens as the detail part.
docs/architecture.md#offices-and-addresses.
"""

from __future__ import annotations

import re
from dataclasses import astuple, dataclass
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from . import divisions
from .officepicker import OfficePickerFormMixin
from .validators import validate_single_line

HENAN = "410000"
PARTS = ("province", "city", "district", "street", "detail")
# The "Update the lists" button: its value is the address field's name. Not a sub-widget's name, so a draft kept with
# what was typed (portal.cases.kept) does not keep the button pressed.
UPDATE = "address-update"
STREET_MAX_LENGTH = 60
DETAIL_MAX_LENGTH = 160  # the composed line fits the 255 characters of the address fields


@dataclass(frozen=True)
class Address:
    province: str = ""  # GB/T 2260 codes
    city: str = ""
    district: str = ""
    street: str = ""  # street or township, as typed
    detail: str = ""  # road and number, building, flat

    @property
    def text(self) -> str:
        """The one-line address as registered: division names (in Chinese), street, detail."""
        names = [d.name for d in (divisions.get(c) for c in (self.province, self.city, self.district)) if d]
        return "".join(names) + "".join(part for part in (self.street, self.detail) if part)

    def __str__(self) -> str:
        return self.text

    @property
    def complete(self) -> bool:
        """Every part an address needs, in agreement: the district (if the city has any) inside the city, the city
        inside the province, and the road and number. An address saved before the parts (its text as detail) is not."""
        chosen = [divisions.get(code) for code in (self.province, self.city, self.district)]
        if not (chosen[0] and chosen[1] and chosen[1].parent == self.province and self.detail.strip()):
            return False
        if chosen[2] is None:
            return not self.district and not divisions.children(self.city)
        return chosen[2].parent == self.city

    def parts(self, prefix: str) -> dict[str, str]:
        """The model fields of the parts: {"<prefix>_province": code, ...}."""
        return {f"{prefix}_{name}": value for name, value in zip(PARTS, astuple(self), strict=True)}

    @classmethod
    def of(cls, instance: Any, prefix: str, text_field: str) -> Address:
        """The address saved on `instance`: its parts, or (saved before addresses had parts) its text as detail."""
        values = [getattr(instance, f"{prefix}_{name}", "") or "" for name in PARTS]
        if not any(values):
            return cls(detail=getattr(instance, text_field, "") or "")
        return cls(*values)


def _options(items: list[divisions.Division], empty: Any) -> list[tuple[str, Any]]:
    return [("", empty), *((d.code, str(d)) for d in items)]


class AddressWidget(forms.MultiWidget):
    template_name = "portal/widgets/address.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        select = {"class": "form-select"}
        text = {"class": "form-control"}
        widgets: dict[str, forms.Widget | type[forms.Widget]] = {
            "province": forms.Select(attrs={**select, "data-address-province": True, "autocomplete": "off"}),
            "city": forms.Select(attrs={**select, "data-address-city": True, "autocomplete": "off"}),
            "district": forms.Select(attrs={**select, "data-address-district": True, "autocomplete": "off"}),
            "street": forms.TextInput(attrs={**text, "maxlength": STREET_MAX_LENGTH}),
            "detail": forms.TextInput(attrs={**text, "maxlength": DETAIL_MAX_LENGTH, "autocomplete": "street-address"}),
        }
        super().__init__(widgets, attrs)
        self.updating = False  # "Update the lists" was pressed: the citizen is told to go on

    def decompress(self, value: Any) -> list[str]:
        if isinstance(value, Address):
            return list(astuple(value))
        return ["", "", "", "", str(value or "")]  # an old one-line address: the detail part

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> Any:
        # The project's template engine (templates/portal/widgets/), not the form renderer's own.
        from django.forms.renderers import TemplatesSetting

        return super().render(name, value, attrs, TemplatesSetting())

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        values = value if isinstance(value, list) else self.decompress(value)
        values = [str(v or "") for v in values] + [""] * (len(PARTS) - len(values))
        province = values[0] or HENAN
        cities = divisions.children(province) if divisions.get(province) else []
        city = values[1] if any(c.code == values[1] for c in cities) else ""
        province_widget, city_widget, district_widget = (cast(forms.Select, w) for w in self.widgets[:3])
        province_widget.choices = _options(divisions.provinces(), _("Choose the province"))
        city_widget.choices = _options(cities, _("Choose the city"))
        districts = divisions.children(city) if city else []
        district_widget.choices = _options(districts, _("Choose the district or county"))
        values[0] = province
        context = super().get_context(name, values, attrs)
        labels = (
            _("Province"),
            _("City"),
            _("District or county"),
            _("Street or township (optional)"),
            _("Road and number, building, flat"),
        )
        base = context["widget"]["attrs"].get("id", "")
        for subwidget, label, part in zip(context["widget"]["subwidgets"], labels, PARTS, strict=True):
            subwidget["label"] = label
            if base:
                subwidget["attrs"]["id"] = f"{base}_{part}"  # like its name ("<name>_city"), not "<name>_1"
        if self.updating:
            # Back where the citizen pressed the button (without JavaScript the page opens at its top otherwise).
            context["widget"]["subwidgets"][2 if city else 1]["attrs"]["autofocus"] = True
        context["address"] = {
            # crispy marks each part is-invalid, not the address; the wrapper must carry it too, or Bootstrap hides the
            # error text that follows it (.is-invalid ~ .invalid-feedback).
            "invalid": any(
                "is-invalid" in str(sub["attrs"].get("class", "")) for sub in context["widget"]["subwidgets"]
            ),
            "update_name": UPDATE,
            "updating": self.updating,
            "no_districts": bool(city) and not districts,
        }
        return context

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_province" if id_ else id_


class AddressField(forms.MultiValueField):
    """An address in parts, cleaned to an `Address` (the district inside the city, the city inside the province).
    `parts` names the model fields' prefix the form's AddressFormMixin stores the parts in."""

    widget = AddressWidget
    default_error_messages = {
        "required": _("Enter the address."),
        "city": _("Choose the city."),
        "district": _("Choose the district or county."),
        "detail": _("Enter the road and number, building and flat."),
        "mismatch": _("The city or district chosen does not lie in the province or city chosen: choose them again."),
    }

    def __init__(self, *, parts: str, **kwargs: Any) -> None:
        self.parts = parts
        fields = (
            forms.CharField(max_length=6),
            forms.CharField(max_length=6),
            forms.CharField(max_length=6),
            forms.CharField(max_length=STREET_MAX_LENGTH, validators=[validate_single_line]),
            forms.CharField(max_length=DETAIL_MAX_LENGTH, validators=[validate_single_line]),
        )
        super().__init__(fields, require_all_fields=False, **kwargs)
        for field in self.fields:
            field.required = False

    def clean(self, value: Any) -> Any:
        # Only the province chosen (it is chosen by default) is no address yet.
        if isinstance(value, list | tuple) and not any(str(v or "").strip() for v in value[1:]):
            value = []
        return super().clean(value)

    def partial(self, value: Any) -> Address | None:
        """What was typed of an address that does not validate yet (a part missing), if its parts agree: a draft keeps
        it."""
        values = [" ".join(str(v or "").split()) for v in (value if isinstance(value, list | tuple) else [])]
        if len(values) != len(PARTS) or not any(values[1:]):
            return None
        province, city, district, street, detail = values
        chosen = [divisions.get(code) for code in (province, city, district)]
        if not chosen[0] or (city and (not chosen[1] or chosen[1].parent != province)):
            return None
        if district and (not chosen[2] or chosen[2].parent != city):
            return None
        return Address(province, city, district, street[:STREET_MAX_LENGTH], detail[:DETAIL_MAX_LENGTH])

    def compress(self, data_list: list[str]) -> Address | None:
        if not data_list:
            return None
        province, city, district, street, detail = (" ".join((v or "").split()) for v in data_list)
        chosen = [divisions.get(code) for code in (province, city, district)]
        if not chosen[0] or (city and (not chosen[1] or chosen[1].parent != province)):
            raise ValidationError(self.error_messages["mismatch"], code="mismatch")
        if district and (not chosen[2] or chosen[2].parent != city):
            raise ValidationError(self.error_messages["mismatch"], code="mismatch")
        # Missing parts are "required" errors: a draft is saved without them (portal.forms.DraftFormMixin).
        if not city:
            raise ValidationError(self.error_messages["city"], code="required")
        if not district and divisions.children(city):
            raise ValidationError(self.error_messages["district"], code="required")
        if not detail:
            raise ValidationError(self.error_messages["detail"], code="required")
        return Address(province, city, district, street, detail)


class AddressFormMixin(OfficePickerFormMixin):
    """A ModelForm with AddressFields named after the model's one-line address fields. Opens each on the parts saved
    (or the old text as the detail part); cleans it to the composed text with its parts beside it in cleaned_data
    (so a form's answers carry both); "Update the lists" (no JavaScript) is a look-up step like the office picker's
    "Find": the form is not valid and reports no missing answer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        pressed = self.data.get(UPDATE) if self.is_bound else None
        for name, field in list(self.fields.items()):
            if not isinstance(field, AddressField):
                continue
            for part in PARTS:
                # The parts' model fields are answers of the form (its Meta names them) but not questions of their own.
                self.fields.pop(f"{field.parts}_{part}", None)
            if instance is not None and not isinstance(self.initial.get(name), Address):
                self.initial[name] = Address.of(instance, field.parts, name)
            if pressed and pressed == self.add_prefix(name):
                self.finding.append(name)
                field.widget.updating = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        for name, field in self.fields.items():
            if not isinstance(field, AddressField):
                continue
            if name in cleaned:
                address = cleaned[name] or Address()
            else:
                # Not valid yet: a draft saves what agrees of it (a part still missing), nothing that does not.
                typed = cast(AddressWidget, field.widget).value_from_datadict(
                    self.data, self.files, self.add_prefix(name)
                )
                address = field.partial(typed) or Address()
            cleaned.update(address.parts(field.parts))
            cleaned[name] = address.text
        return cleaned


CODE = re.compile(r"^\d{6}$")


@require_GET
@cache_control(public=True, max_age=86400)
def divisions_json(request: HttpRequest, code: str) -> JsonResponse:
    """The divisions directly below `code` (a province's cities, a city's districts), for portal.js's address lists."""
    if not CODE.match(code) or divisions.get(code) is None:
        raise Http404
    return JsonResponse({"children": [{"code": d.code, "name": str(d)} for d in divisions.children(code)]})
