"""docs/deploy.md lists every environment variable the portal reads (section "Environment variables")."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("portal/settings.py", "gunicorn.conf.py", "portal/celery.py")
NAME = r"""\(\s*["']([A-Z][A-Z0-9_]*)["']"""
# os.environ.get / setdefault / os.getenv, settings.py's env_* helpers, gunicorn.conf.py's _int, and os.environ["X"].
READ = re.compile(
    r"(?:os\.environ\.get|os\.environ\.setdefault|os\.getenv|\benv_bool|\benv_int|\benv_list|(?<![\w.])_int)"
    + NAME
    + r"|os\.environ\[\s*[\"']([A-Z][A-Z0-9_]*)[\"']\s*\]"
)
SECRET = re.compile(r"\benv_secret" + NAME)  # reads NAME, or the file named by NAME_FILE
PROCFILE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")


def variables_read(text: str) -> set[str]:
    names = {a or b for a, b in READ.findall(text)}
    for name in SECRET.findall(text):
        names |= {name, f"{name}_FILE"}
    return names


def table_variables() -> dict[str, list[str]]:
    """{variable: the other cells of its row} from the section's table."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    assert "\n## Environment variables\n" in text
    section = text.split("\n## Environment variables\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0]):
            rows[name] = cells[1:]
    return rows


def test_the_reader_finds_every_way_a_variable_is_read():
    sample = """
    a = os.environ.get("A_GET", "x"); b = os.environ["B_ITEM"]; os.environ.setdefault("C_DEFAULT", "y")
    env_bool("D_BOOL"); env_int("E_INT", 1); env_list("F_LIST"); env_secret("G_SECRET"); _int("H_INT", 2)
    os.environ.get(name); settings.env_int  # neither is a literal name
    """
    expected = {"A_GET", "B_ITEM", "C_DEFAULT", "D_BOOL", "E_INT", "F_LIST", "G_SECRET", "G_SECRET_FILE", "H_INT"}
    assert variables_read(sample) == expected


def test_every_variable_the_portal_reads_is_in_the_deploy_table():
    table = table_variables()
    read = {}
    for source in SOURCES:
        for name in variables_read((ROOT / source).read_text()):
            read.setdefault(name, source)
    assert len(read) >= 40  # the reader still finds them (about 65 today)
    for known in ("SITE_URL", "SMS_GATEWAY_TOKEN_FILE", "GUNICORN_BIND", "PORT", "DJANGO_SETTINGS_MODULE"):
        assert known in read, known
    missing = sorted(f"{name} (read in {source})" for name, source in read.items() if name not in table)
    assert not missing, "add to docs/deploy.md, Environment variables: " + ", ".join(missing)


def test_every_row_names_a_variable_that_is_read_and_fills_its_cells():
    procfile = set(PROCFILE.findall((ROOT / "Procfile").read_text()))
    read = procfile.union(*(variables_read((ROOT / source).read_text()) for source in SOURCES))
    table = table_variables()
    stale = sorted(set(table) - read)
    assert not stale, f"in the table but read nowhere: {stale}"
    for name, cells in table.items():
        assert len(cells) == 3 and all(cells), (name, cells)  # default, meaning, production
