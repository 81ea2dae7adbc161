"""Writes tests/data/identities.json: synthetic identities of nobody, for the tests and the demo.

    .venv/bin/python tests/data/make_identities.py          # rewrite the file
    .venv/bin/python tests/data/make_identities.py --check  # exit 1 when the file is not this script's output

The output is deterministic (a fixed seed), and tests/portal/test_repository.py fails when the committed file and
this script disagree, so change the data here, never by hand.

How a number is made (docs/architecture.md#identity-rules): a Henan address code, a birth date, a three-digit
sequence (odd for men, even for women) and the ISO 7064 MOD 11-2 check character computed by python-stdnum. The
names are common surnames and given names drawn at random, so that no entry describes a real person; the mobile
numbers are valid mainland mobile numbers drawn at random (phonenumbers says so) and the e-mail addresses use the
reserved example.test domain.

A few people are pinned, because tests and the demo refer to them by number:
- 王芳 410105196507196913, the demo citizen: a Zhengzhou Jinshui number of someone born in 1965. python-stdnum's
  county table says 410105 was not yet in force in 1965, but a number carries the code in force when it was
  issued, so the portal accepts it with a warning;
- 何洋 41140219840721363X, a number whose check character is X;
- 李伟 410102198906169082, registered only by the browser journey of the accounts tests;
- 王小明 410105201406010319, a minor (16 on 2030-06-01), for the hukou rules.
"""

import datetime
import json
import random
import sys
from pathlib import Path

import phonenumbers
from stdnum.cn import ric

OUT = Path(__file__).with_name("identities.json")
SEED = 20261207
DRAWN = 20  # people drawn at random besides the pinned ones

# Address codes (GB/T 2260) of Henan districts and counties, with the place they name.
AREAS = [
    ("410105", "郑州市金水区"),
    ("410102", "郑州市中原区"),
    ("410302", "洛阳市老城区"),
    ("410205", "开封市禹王台区"),
    ("411302", "南阳市宛城区"),
    ("411602", "周口市川汇区"),
    ("410702", "新乡市红旗区"),
    ("419001", "济源市"),
    ("411402", "商丘市梁园区"),
    ("410522", "安阳县"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
]
MOBILE_PREFIXES = ["135", "138", "139", "150", "151", "158", "166", "186", "187", "199"]

# (name, area code, birth date, sequence, note)
PINNED = [
    ("王芳", "410105", datetime.date(1965, 7, 19), 691, "the demo citizen; python-stdnum's county table warns"),
    ("何洋", "411402", datetime.date(1984, 7, 21), 363, "check character X"),
    ("李伟", "410102", datetime.date(1989, 6, 16), 908, "registered only by the accounts browser journey"),
]
MINOR = ("王小明", "410105", datetime.date(2014, 6, 1), 31, "a minor, under 16 until 2030-06-01")

INVALID_MOBILES = ["+8612345678901", "+861381234567", "+86138123456789", "+8611012345678", "037166668888"]


def number(area: str, birth: datetime.date, sequence: int) -> str:
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # it reads the first 17 of 18 characters


def mobile(rng: random.Random) -> str:
    while True:
        candidate = f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        parsed = phonenumbers.parse(candidate)
        if phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            return candidate


def person(name, area, birth, sequence, *, index, rng, note=None, adult=True):
    entry = {
        "name": name,
        "id_number": number(area, birth, sequence),
        "sex": "M" if sequence % 2 else "F",
        "birth_date": birth.isoformat(),
        "hukou_area_code": area,
        "hukou_area": dict(AREAS)[area],
        "mobile": mobile(rng) if adult else None,
        "email": f"citizen{index:02d}@example.test" if adult else None,
    }
    if note:
        entry["note"] = note
    return entry


def invalid_numbers() -> list[dict]:
    """Numbers the portal must refuse, each made from a valid one and named by what is wrong with it."""
    good = number("410105", datetime.date(1990, 3, 7), 123)
    wrong_check = next(c for c in "0123456789X" if c != good[-1])

    def with_date(text: str) -> str:
        body = f"410105{text}123"
        return body + ric.calc_check_digit(body + "0")  # it reads the first 17 of 18 characters

    return [
        {"id_number": good[:-1] + wrong_check, "why": f"wrong check character (should be {good[-1]})"},
        {"id_number": with_date("19900230"), "why": "30 February"},
        {"id_number": with_date("19890229"), "why": "29 February in a non-leap year"},
        {"id_number": "410105900307123", "why": "old 15-digit number"},
        {"id_number": "99" + good[2:-1] + ric.calc_check_digit("99" + good[2:]), "why": "no province 99"},
        {"id_number": with_date("20990101"), "why": "birth date in the future"},
        {"id_number": good[:-1], "why": "17 characters"},
    ]


def build() -> dict:
    rng = random.Random(SEED)
    valid = []
    for name, area, birth, sequence, note in PINNED:
        valid.append(person(name, area, birth, sequence, index=len(valid), rng=rng, note=note))
    pinned_numbers = {entry["id_number"] for entry in valid}
    while len(valid) < len(PINNED) + DRAWN:
        area, _ = AREAS[len(valid) % len(AREAS)]
        birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(60 * 365))
        sequence = rng.randrange(1000)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        entry = person(name, area, birth, sequence, index=len(valid), rng=rng)
        if entry["id_number"] not in pinned_numbers:
            pinned_numbers.add(entry["id_number"])
            valid.append(entry)
    name, area, birth, sequence, note = MINOR
    valid.append(person(name, area, birth, sequence, index=len(valid), rng=rng, note=note, adult=False))
    return {
        "about": (
            "Synthetic identities for tests and demos, written by tests/data/make_identities.py (do not edit by "
            "hand): valid GB 11643 numbers (checksum, date, Henan address code) of no real person. python-stdnum "
            "rejects some of the 'valid' ones because their county code was created after the birth year; a number "
            "carries the code in force when it was issued, so the portal accepts them with a warning "
            "(docs/architecture.md#identity-rules). 'invalid' lists numbers the portal must refuse, with the reason."
        ),
        "valid": valid,
        "invalid": invalid_numbers(),
        "mobiles_invalid": INVALID_MOBILES,
    }


def render() -> str:
    return json.dumps(build(), ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        sys.exit(0 if OUT.read_text(encoding="utf-8") == render() else "identities.json is not this script's output")
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")
