"""Choosing an office: city → district or county → office, or part of its name; with and without JavaScript.

`OfficePickerField` is a ModelChoiceField whose select groups the offices by city and district ("郑州市 · 金水区",
from the office's GB/T 2260 division code, accounts.divisions). Above the select the widget draws a city list, a
district list and a text box with a "Find" button. Without JavaScript the button sends the form: the form
(`OfficePickerFormMixin`) is not valid, keeps everything typed, reports no missing answer, and shows the select
narrowed to the offices found, with their count as a notice beside it (not an error: nothing is wrong), focused so that
the page opens where the citizen was. With JavaScript (static/js/portal.js) the lists and the text box narrow the select
as the citizen types, and the button is hidden. docs/architecture.md#offices-and-addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import divisions

if TYPE_CHECKING:
    from .models import Office

    _FormBase = forms.BaseForm
else:
    _FormBase = object

# The names of the picker's own inputs: "<field>__city", "<field>__district", "<field>__q", "<field>__find".
CITY, DISTRICT, QUERY, FIND = "city", "district", "q", "find"
QUERY_MAX_LENGTH = 40


def part_name(name: str, part: str) -> str:
    return f"{name}__{part}"


@dataclass(frozen=True)
class Narrowing:
    """What the citizen narrowed the list to: a city code, a district code, part of a name."""

    city: str = ""
    district: str = ""
    query: str = ""

    @classmethod
    def from_data(cls, data: Any, name: str) -> Narrowing:
        def read(part: str) -> str:
            return str(data.get(part_name(name, part)) or "").strip()[:QUERY_MAX_LENGTH]

        return cls(city=read(CITY), district=read(DISTRICT), query=read(QUERY))


@dataclass(frozen=True)
class Place:
    """Where an office lies, and the text typing part of a name is matched against."""

    office: Office
    city: divisions.Division | None
    district: divisions.Division | None
    label: str

    @property
    def city_code(self) -> str:
        return self.city.code if self.city else ""

    @property
    def district_code(self) -> str:
        return self.district.code if self.district else ""

    def group(self) -> str:
        parts = [str(part) for part in (self.city, self.district) if part is not None]
        return " · ".join(parts) or gettext("Other offices")

    def matches(self, narrowing: Narrowing) -> bool:
        if narrowing.city and self.city_code != narrowing.city:
            return False
        if narrowing.district and self.district_code != narrowing.district:
            return False
        if narrowing.query:
            haystack = " ".join((self.office.name, self.office.name_en, self.office.address)).casefold()
            return narrowing.query.casefold() in haystack
        return True


def place_of(office: Office, *, with_address: bool = False) -> Place:
    division = divisions.get(office.division_code)
    district = division if division is not None and division.level == "county" else None
    label = str(office)
    if with_address and office.address:
        label = f"{label} ({office.address})"
    return Place(office, divisions.city_of(office.division_code), district, label)


class OfficePickerWidget(forms.Select):
    template_name = "portal/widgets/office_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.queryset: Any = None
        self.narrowing = Narrowing()
        self.with_address = False
        self.empty_label: Any = ""
        self.found = False  # "Find" was pressed: the notice says how many offices were found
        self._data: dict[str, dict[str, str]] = {}

    def places(self) -> list[Place]:
        offices = list(self.queryset) if self.queryset is not None else []
        places = [place_of(office, with_address=self.with_address) for office in offices]
        return sorted(places, key=lambda p: (p.city_code or "999999", p.district_code, p.office.division_code))

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> Any:
        # The project's template engine (templates/portal/widgets/), not the form renderer's own.
        from django.forms.renderers import TemplatesSetting

        return super().render(name, value, attrs, TemplatesSetting())

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"].update(self._data.get(str(value), {}))
        return option

    def notice(self, places: list[Place]) -> str:
        """What the citizen is told after pressing "Find": how many offices match, or what to change."""
        count = sum(1 for place in places if place.matches(self.narrowing))
        if not count:
            return gettext("No office matches: choose another city or district, or type less of the name.")
        return ngettext(
            "%(count)d office found: choose it from the list.",
            "%(count)d offices found: choose one from the list.",
            count,
        ) % {"count": count}

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        places = self.places()
        shown = [place for place in places if place.matches(self.narrowing) or str(place.office.pk) == str(value)]
        groups: dict[str, list[tuple[str, str]]] = {}
        self._data = {}
        for place in shown:
            groups.setdefault(place.group(), []).append((str(place.office.pk), place.label))
            self._data[str(place.office.pk)] = {
                "data-city": place.city_code,
                "data-district": place.district_code,
                "data-search": " ".join((place.office.name, place.office.name_en, place.office.address)),
            }
        self.choices = [("", self.empty_label), *groups.items()]
        context = super().get_context(name, value, attrs)
        notice = self.notice(places) if self.found else ""
        if notice:
            # Back where the citizen pressed "Find" (without JavaScript the page opens at its top otherwise), and the
            # notice read with the list.
            notice_id = f"{context['widget']['attrs']['id']}__found"
            described = context["widget"]["attrs"].get("aria-describedby", "")
            context["widget"]["attrs"]["aria-describedby"] = f"{notice_id} {described}".strip()
            context["widget"]["attrs"]["autofocus"] = True
        cities: dict[str, divisions.Division] = {}
        districts: dict[str, tuple[divisions.Division, list[divisions.Division]]] = {}
        for place in places:
            if place.city is not None:
                cities.setdefault(place.city.code, place.city)
                if place.district is not None:
                    entry = districts.setdefault(place.city.code, (place.city, []))
                    if place.district not in entry[1]:
                        entry[1].append(place.district)
        context["picker"] = {
            "city_name": part_name(name, CITY),
            "district_name": part_name(name, DISTRICT),
            "query_name": part_name(name, QUERY),
            "find_name": part_name(name, FIND),
            "cities": list(cities.values()),
            "districts": list(districts.values()),
            "narrowing": self.narrowing,
            "count": len(shown),
            "narrowed": self.narrowing != Narrowing(),
            "notice": notice,
            "query_max_length": QUERY_MAX_LENGTH,
        }
        return context


class OfficePickerField(forms.ModelChoiceField):
    """A choice of one office of `queryset`, drawn by OfficePickerWidget. Its form needs OfficePickerFormMixin."""

    widget = OfficePickerWidget

    def __init__(self, *, queryset: Any, empty_label: Any = None, with_address: bool = False, **kwargs: Any) -> None:
        super().__init__(queryset=queryset, empty_label=None, **kwargs)
        self.widget.empty_label = empty_label or _("Choose an office")
        self.widget.with_address = with_address
        self.widget.queryset = self.queryset

    def _set_queryset(self, queryset: Any) -> None:
        super()._set_queryset(queryset)  # type: ignore[misc]  # Django's, left out of django-stubs
        self.widget.queryset = self.queryset

    # The widget draws the offices of the queryset the form sets (ModelChoiceField.queryset's own getter).
    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)  # type: ignore[attr-defined]

    def __deepcopy__(self, memo: dict[int, Any]) -> OfficePickerField:
        result = super().__deepcopy__(memo)
        result.widget.queryset = result.queryset
        return result


class OfficePickerFormMixin(_FormBase):
    """A form with OfficePickerFields. When the citizen pressed a picker's "Find" (no JavaScript), the form is not
    valid, keeps every answer and reports no missing answer; the picker tells how many offices were found (a notice,
    not an error)."""

    if TYPE_CHECKING:
        from django.forms.utils import ErrorDict

        _errors: ErrorDict  # BaseForm's, filled by full_clean() (private: django-stubs leaves it out)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.finding: list[str] = []
        for name, field in self.fields.items():
            if not isinstance(field, OfficePickerField):
                continue
            field.widget.narrowing = (
                Narrowing.from_data(self.data, self.add_prefix(name)) if self.is_bound else Narrowing()
            )
            if self.is_bound and self.data.get(part_name(self.add_prefix(name), FIND)):
                self.finding.append(name)
                field.widget.found = True

    def is_valid(self) -> bool:
        # Finding an office is no answer yet: the page comes back, without an error, with the list narrowed.
        return super().is_valid() and not self.finding

    def full_clean(self) -> None:
        super().full_clean()
        if not self.finding or not hasattr(self, "cleaned_data"):
            return
        for name, errors in list(self._errors.items()):
            kept = [error for error in errors.as_data() if error.code != "required"]
            if kept:
                self._errors[name] = self.error_class(kept, renderer=self.renderer)
            else:
                del self._errors[name]
