"""The catalogues stay complete and well-formed, and the portal speaks Simplified Chinese unless switched to English."""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from portal import registry

LOCALE = Path(settings.BASE_DIR) / "locale"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
EN_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"

# Python %-format placeholders (named or positional), str.format fields, and HTML tags with their attributes:
# a translation must carry the same ones as its msgid, or the page breaks or the value goes missing.
PLACEHOLDER = re.compile(
    r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]|%[-#0 +]*\d*(?:\.\d+)?[sdifrx]|\{[A-Za-z_][A-Za-z0-9_.]*\}|</?[a-zA-Z][^>]*>"
)


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def translations(self) -> list[str]:
        return [self.msgstr[k] for k in sorted(self.msgstr)]


def parse_po(path: Path) -> list[Entry]:
    """A small .po reader (the project does not depend on a gettext library): active entries, header excluded."""
    entries: list[Entry] = []
    entry, target = Entry(), None

    def finish():
        nonlocal entry, target
        if entry.line:
            entries.append(entry)
        entry, target = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            if target not in (None, "flags"):
                finish()
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            target = "flags"
        elif line.startswith("#"):
            continue  # comments, references, previous msgids (#|) and obsolete entries (#~)
        else:
            keyword, _, rest = line.partition(" ")
            if keyword.startswith('"'):
                value, rest = "", line
            else:
                # A new entry starts at msgctxt, or at msgid unless the msgctxt of the same entry came just before.
                if (keyword == "msgctxt" and target not in (None, "flags")) or (
                    keyword == "msgid" and target not in (None, "flags", "msgctxt")
                ):
                    finish()
                target, value = keyword, ""
                if not entry.line:
                    entry.line = number
            value += ast.literal_eval(rest)
            if target == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + value
            elif target == "msgid":
                entry.msgid += value
            elif target == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + value
            elif target == "msgstr":
                entry.msgstr[0] = entry.msgstr.get(0, "") + value
            elif target.startswith("msgstr["):
                index = int(target[7:-1])
                entry.msgstr[index] = entry.msgstr.get(index, "") + value
    finish()
    return [e for e in entries if e.msgid or e.msgctxt]


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def describe(entry: Entry) -> str:
    return f"line {entry.line}: {entry.msgid!r}"


@pytest.fixture(scope="module")
def zh_entries():
    return parse_po(ZH_PO)


def test_the_reader_sees_plural_and_multiline_entries(zh_entries):
    assert len(zh_entries) > 500
    plurals = [e for e in zh_entries if e.msgid_plural]
    assert plurals and all(set(e.msgstr) == {0} for e in plurals), "zh_Hans has one plural form: msgstr[0]"
    assert any(len(e.msgid) > 100 for e in zh_entries)


def test_every_chinese_entry_is_translated_and_not_fuzzy(zh_entries):
    untranslated = [describe(e) for e in zh_entries if not e.translations or not all(e.translations)]
    fuzzy = [describe(e) for e in zh_entries if "fuzzy" in e.flags]
    listing = "\n".join(untranslated)
    assert not untranslated, f"{len(untranslated)} msgids have no zh_Hans translation in {ZH_PO}:\n{listing}"
    assert not fuzzy, f"{len(fuzzy)} zh_Hans entries are still marked fuzzy:\n" + "\n".join(fuzzy)


def test_chinese_catalogue_header_declares_one_plural_form():
    header = ZH_PO.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in header
    assert '"Content-Type: text/plain; charset=UTF-8\\n"' in header


def nplurals(po: Path) -> int:
    match = re.search(r"nplurals=(\d+)", po.read_text(encoding="utf-8").split("\n\n", 1)[0])
    return int(match.group(1)) if match else 2


@pytest.mark.parametrize("po", [ZH_PO, EN_PO], ids=["zh_Hans", "en"])
def test_translations_keep_the_placeholders_and_tags_of_the_msgid(po):
    one_form = nplurals(po) == 1
    wrong = []
    for entry in parse_po(po):
        for index, text in sorted(entry.msgstr.items()):
            if not text:
                continue  # an empty msgstr falls back to the msgid
            # As msgfmt checks: form 0 follows the msgid, the other forms the plural msgid; in a language with one
            # form (zh_Hans) that form serves every count, so it must carry the plural msgid's placeholders.
            source = entry.msgid_plural if entry.msgid_plural and (index > 0 or one_form) else entry.msgid
            if placeholders(text) != placeholders(source):
                wrong.append(
                    f"{describe(entry)} msgstr[{index}] {text!r}: {placeholders(source)} != {placeholders(text)}"
                )
    assert not wrong, "placeholders or HTML tags differ:\n" + "\n".join(wrong)


def test_placeholder_check_catches_a_dropped_or_renamed_placeholder():
    assert placeholders("Draft %(number)s is deleted.") == placeholders("草稿 %(number)s 已删除。")
    assert placeholders("Draft %(number)s is deleted.") != placeholders("草稿已删除。")
    assert placeholders("Draft %(number)s is deleted.") != placeholders("草稿 %(numbr)s 已删除。")
    assert placeholders('<a href="%(url)s">x</a>') != placeholders('<a href="%(url)s">x')


def english_service_titles() -> list[str]:
    with translation.override("en"):
        return [str(s.title) for s in registry.services() if isinstance(s.title, Promise)]


@pytest.mark.django_db
def test_home_page_speaks_chinese_by_default_and_english_after_switching(client):
    mo = ZH_PO.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: compile the catalogues with `make messages`"
    titles = english_service_titles()
    assert "Certificate of No Criminal Record" in titles

    html = client.get(reverse("home")).content.decode()
    assert '<html lang="zh-hans"' in html
    assert "河南政务服务网" in html
    assert "无犯罪记录证明" in html
    shown = [title for title in titles if title in html]
    assert not shown, f"English service titles on the Chinese home page: {shown}"

    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en"' in html
    assert "Certificate of No Criminal Record" in html
    assert "无犯罪记录证明" not in html


def test_the_reader_finds_untranslated_fuzzy_and_plural_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        '#: a.py:1\nmsgid "Done"\nmsgstr "完成"\n\n'
        '#: a.py:2\nmsgid ""\n"Two "\n"lines"\nmsgstr ""\n\n'
        '#: a.py:3\n#, fuzzy, python-format\n#| msgid "Old %(n)s"\nmsgid "New %(n)s"\nmsgstr "旧 %(n)s"\n\n'
        '#: a.py:4\n#, python-format\nmsgid "%(n)d day"\nmsgid_plural "%(n)d days"\nmsgstr[0] "%(n)d 天"\n\n'
        '#~ msgid "Gone"\n#~ msgstr "已删除"\n',
        encoding="utf-8",
    )
    entries = {e.msgid: e for e in parse_po(po)}
    assert set(entries) == {"Done", "Two lines", "New %(n)s", "%(n)d day"}
    assert entries["Two lines"].translations == [""]
    assert "fuzzy" in entries["New %(n)s"].flags and "fuzzy" not in entries["Done"].flags
    assert entries["%(n)d day"].msgid_plural == "%(n)d days" and entries["%(n)d day"].translations == ["%(n)d 天"]
