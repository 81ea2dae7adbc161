"""accounts.pinyin: holder names spelt as a Chinese passport spells them."""

import pytest

from accounts.pinyin import passport_pinyin


@pytest.mark.parametrize(
    ("name", "spelt"),
    [
        ("欧阳娜娜", "OUYANG Nana"),  # compound surname
        ("单雄信", "SHAN Xiongxin"),  # 单 as a surname reads Shàn, not dān
        ("阿依古丽·买买提", "AYIGULI·MAIMAITI"),  # a transcribed name: no surname/given split, all capitals
        ("王芳", "WANG Fang"),
        ("吕伟", "LYU Wei"),  # ü is YU on passports
        ("曾国藩", "ZENG Guofan"),
        ("诸葛亮", "ZHUGE Liang"),
        ("  王  芳 ", "WANG Fang"),
        ("", ""),
        ("Anna Müller", "Anna Müller"),
    ],
)
def test_passport_spelling(name, spelt):
    assert passport_pinyin(name) == spelt
