"""The repository stands on its own: its test data is its own output, and no tracked file reaches outside it."""

import re
import subprocess
from pathlib import Path

import pytest

from tests.data import make_identities

ROOT = Path(__file__).resolve().parent.parent
# Spelt in pieces, so that this file does not match itself.
OUTSIDE = ("../" + "shared", "shared/" + "testdata")


def tracked_files():
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    return [ROOT / name for name in listing.split("\0") if name]


def test_the_identities_file_is_the_generators_output():
    committed = make_identities.OUT.read_text(encoding="utf-8")
    assert committed == make_identities.render(), "run tests/data/make_identities.py and commit its output"


def test_the_generated_identities_are_what_they_claim():
    from stdnum.cn import ric

    data = make_identities.build()
    numbers = [p["id_number"] for p in data["valid"]]
    assert len(numbers) == len(set(numbers))
    for person in data["valid"]:
        number = person["id_number"]
        assert ric.calc_check_digit(number) == number[-1]
        assert number[6:14] == person["birth_date"].replace("-", "")
        assert person["sex"] == ("M" if int(number[16]) % 2 else "F")
        assert number.startswith(person["hukou_area_code"])


def test_no_tracked_file_reaches_outside_the_repository():
    offenders = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        if any(pattern in text for pattern in OUTSIDE):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_no_test_module_imports_from_another_test_module():
    # Shared fixtures live in conftest.py files, shared helpers in modules whose names do not start with test_
    # (tests/factories, tests/*/pages.py, …): importing a test module runs its tests' module code twice and hides
    # which fixtures a test really uses.
    imports = re.compile(r"^\s*(?:from|import)\s+tests(?:\.\w+)*\.test_\w+", re.M)
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if imports.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
