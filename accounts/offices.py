"""Office choices for citizens' forms grouped by the prefecture-level city of their division code
(docs/architecture.md#identity), for offices outside the police tree, whose parent offices are no guide to where a
citizen lives."""

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# Henan's prefecture-level cities and Jiyuan (province-administered), by the first four digits of a division code.
PREFECTURES = {
    "4101": ("郑州市", "Zhengzhou"),
    "4102": ("开封市", "Kaifeng"),
    "4103": ("洛阳市", "Luoyang"),
    "4104": ("平顶山市", "Pingdingshan"),
    "4105": ("安阳市", "Anyang"),
    "4106": ("鹤壁市", "Hebi"),
    "4107": ("新乡市", "Xinxiang"),
    "4108": ("焦作市", "Jiaozuo"),
    "4109": ("濮阳市", "Puyang"),
    "4110": ("许昌市", "Xuchang"),
    "4111": ("漯河市", "Luohe"),
    "4112": ("三门峡市", "Sanmenxia"),
    "4113": ("南阳市", "Nanyang"),
    "4114": ("商丘市", "Shangqiu"),
    "4115": ("信阳市", "Xinyang"),
    "4116": ("周口市", "Zhoukou"),
    "4117": ("驻马店市", "Zhumadian"),
    "4190": ("济源市", "Jiyuan"),
}


def prefecture_name(division_code: str) -> str:
    """The city a division code lies in, in the current language; "" outside Henan's prefectures."""
    names = PREFECTURES.get((division_code or "")[:4])
    if names is None:
        return ""
    return names[1] if (get_language() or "").startswith("en") else names[0]


def grouped_by_prefecture(offices, *, empty_label):
    """Select choices: one <optgroup> per city in division-code order, the offices in the order given."""
    rank = {prefix: i for i, prefix in enumerate(PREFECTURES)}
    groups: dict[str, list] = {}
    for office in sorted(offices, key=lambda o: rank.get(o.division_code[:4], len(rank))):
        label = prefecture_name(office.division_code) or str(_("Other offices"))
        groups.setdefault(label, []).append((str(office.pk), str(office)))
    return [("", empty_label), *groups.items()]
