"""A Chinese name in pinyin as a Chinese passport prints it: surname in capitals, given name capitalised, no tones.

欧阳娜娜 → OUYANG Nana; 单雄信 → SHAN Xiongxin (the surname 单 reads Shàn, not dān); 吕伟 → LYU Wei (ü is YU, as in
passports since 2012); a name with the middle dot (a transcribed Uyghur, Tibetan or foreign name), such as
阿依古丽·买买提, has no surname/given split: every part in capitals, AYIGULI·MAIMAITI.
"""

from __future__ import annotations

import re

HAN = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")

# Compound surnames (复姓), longest first when matching.
COMPOUND_SURNAMES = {
    "欧阳": "ouyang",
    "司马": "sima",
    "诸葛": "zhuge",
    "上官": "shangguan",
    "皇甫": "huangfu",
    "公孙": "gongsun",
    "东方": "dongfang",
    "慕容": "murong",
    "夏侯": "xiahou",
    "尉迟": "yuchi",
    "长孙": "zhangsun",
    "宇文": "yuwen",
    "令狐": "linghu",
    "澹台": "tantai",
    "万俟": "moqi",
    "单于": "chanyu",
    "司徒": "situ",
    "司空": "sikong",
    "端木": "duanmu",
    "轩辕": "xuanyuan",
    "呼延": "huyan",
    "西门": "ximen",
    "南宫": "nangong",
    "百里": "baili",
    "钟离": "zhongli",
    "闻人": "wenren",
    "赫连": "helian",
    "拓跋": "tuoba",
}
# Single surnames whose reading as a surname differs from the character's usual one.
SURNAME_READINGS = {
    "单": "shan",
    "仇": "qiu",
    "解": "xie",
    "区": "ou",
    "查": "zha",
    "曾": "zeng",
    "乐": "yue",
    "朴": "piao",
    "缪": "miao",
    "翟": "zhai",
    "盖": "ge",
    "覃": "qin",
    "黑": "he",
    "尉": "wei",
    "车": "che",
    "秘": "bi",
    "召": "shao",
    "种": "chong",
    "折": "she",
    "华": "hua",
    "任": "ren",
    "沈": "shen",
    "石": "shi",
    "藏": "zang",
    "句": "gou",
    "阚": "kan",
    "隗": "wei",
    "员": "yun",
    "费": "fei",
    "燕": "yan",
    "繁": "po",
    "朝": "chao",
    "都": "du",
    "纪": "ji",
    "卜": "bu",
    "过": "guo",
    "宁": "ning",
    "相": "xiang",
    "长": "chang",
    "重": "chong",
    "占": "zhan",
    "便": "pian",
    "寻": "xun",
    "能": "nai",
    "洗": "xian",
    "盛": "sheng",
    "应": "ying",
    "和": "he",
    "薄": "bo",
    "柏": "bai",
    "贲": "ben",
    "郇": "xun",
    "佴": "nai",
    "逄": "pang",
    "冼": "xian",
    "蕃": "pi",
}
MIDDLE_DOTS = "·•‧・."


def _syllables(text: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    # NORMAL: no tones; "v" for ü, which passports write YU.
    return [s.replace("v", "yu") for s in lazy_pinyin(text, style=Style.NORMAL, errors="default")]


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a Chinese name: a compound surname when the name starts with one."""
    name = name.strip()
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def _surname_pinyin(surname: str) -> str:
    if surname in COMPOUND_SURNAMES:
        return COMPOUND_SURNAMES[surname]
    if surname in SURNAME_READINGS:
        return SURNAME_READINGS[surname]
    return "".join(_syllables(surname))


def passport_pinyin(name: str) -> str:
    """`name` as a Chinese passport spells it (see the module's docstring); "" for an empty name."""
    name = " ".join((name or "").split())
    if not HAN.search(name):
        return name  # already in Latin letters (or empty)
    name = "".join(name.split())  # "王 芳" is 王芳
    for dot in MIDDLE_DOTS:
        if dot in name:
            parts = [p for p in name.split(dot) if p.strip()]
            return "·".join("".join(_syllables(p.strip())).upper() for p in parts)
    surname, given = split_name(name)
    given_pinyin = "".join(_syllables(given))
    spelt = _surname_pinyin(surname).upper()
    if given_pinyin:
        spelt += " " + given_pinyin[:1].upper() + given_pinyin[1:].lower()
    return spelt
