"""What an officer's browser reads from a review page's step form or a step's confirmation page (pure, no Django).

The review page (templates/admin/cases/_action_form.html) has one form per step the officer may take now: its
action URL (`…/<pk>/act/<step>/`), the stale-page guard (`seen_status`), the CSRF token, the step's checklist
(checkboxes named `check`, some `required`) and its inputs. An irreversible step's form answers with a confirmation
page (templates/admin/cases/step.html) whose form carries everything in hidden fields with a signed token; only its
POST takes the step (portal.cases.review). The load test's officers read both pages with this, as a browser would,
instead of knowing the field names and tokens in advance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

STEP_URL = re.compile(r"/act/([\w-]+)/(?:\?.*)?$")
ERROR_LIST = re.compile(r'<ul class="errorlist[^"]*">(.*?)</ul>', re.S)


@dataclass
class Checkbox:
    name: str
    value: str
    required: bool
    checked: bool


@dataclass
class Form:
    action: str
    testid: str = ""
    values: list[tuple[str, str]] = field(default_factory=list)  # hidden, text and textarea fields, as sent
    checkboxes: list[Checkbox] = field(default_factory=list)
    required_empty: list[str] = field(default_factory=list)  # required text fields left empty on the page

    @property
    def step(self) -> str | None:
        """The step an action form takes (`…/act/<step>/`), or None for another form."""
        match = STEP_URL.search(self.action)
        return match.group(1) if match else None

    def data(self, tick_optional: bool = False) -> list[tuple[str, str]]:
        """What pressing the button sends: every field, the boxes already ticked and the required ones (as an
        officer who checked them ticks them; the optional ones too with `tick_optional`)."""
        ticked = [(box.name, box.value) for box in self.checkboxes if box.checked or box.required or tick_optional]
        return self.values + ticked


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: tuple[str, bool] | None = None  # name, required
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        present = {name for name, _value in attrs}
        if tag == "form":
            self._form = Form(action=a.get("action", ""), testid=a.get("data-testid", ""))
            self.forms.append(self._form)
        elif self._form is None or "disabled" in present:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind == "checkbox":
                box = Checkbox(a["name"], a.get("value", "on"), "required" in present, "checked" in present)
                self._form.checkboxes.append(box)
            elif kind not in ("submit", "button", "reset", "image", "file", "radio"):
                self._form.values.append((a["name"], a.get("value", "")))
                if "required" in present and not a.get("value"):
                    self._form.required_empty.append(a["name"])
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = (a["name"], "required" in present), []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            name, required = self._textarea
            text = "".join(self._text).removeprefix("\n")  # as browsers do: the newline after <textarea> is not text
            self._form.values.append((name, text))
            if required and not text.strip():
                self._form.required_empty.append(name)
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    parser.close()
    return parser.forms


def step_form(html: str, steps: tuple[str, ...]) -> Form | None:
    """The first form on the page that takes one of `steps` (in the page's order), or None."""
    return next((form for form in forms(html) if form.step in steps), None)


def confirmation_form(html: str) -> Form | None:
    """The confirmation page's form (the one that takes the step), or None when the page is not a confirmation."""
    return next((form for form in forms(html) if form.testid == "confirm-form"), None)


def errors(html: str) -> list[str]:
    """The errors a step's page shows (its form came back: a required item unticked, an input missing)."""
    items = (re.split(r"</li>", block) for block in ERROR_LIST.findall(html))
    texts = (" ".join(re.sub(r"<[^>]+>", "", item).split()) for block in items for item in block)
    return [text for text in texts if text]
