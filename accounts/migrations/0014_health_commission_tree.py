"""Every office belongs to an agency, and the health commissions get their own tree.

Police offices (the provincial department, city bureaus, district branches, stations, household administrations)
are public security. The family-planning offices, which used to hang anywhere in the police tree, move under a new
health-commission tree: the provincial health commission, one commission per city (by the first four digits of the
office's division code, docs/architecture.md#identity) and the district commissions below them. Each agency has its
own province node, so no office is above another agency's (docs/architecture.md#security-and-privacy).
"""

from django.db import migrations

PUBLIC_SECURITY = "public_security"
HEALTH_COMMISSION = "health_commission"
PROVINCE = ("410000", "河南省卫生健康委员会", "Henan Provincial Health Commission")
CITIES = [
    ("410100", "郑州市卫生健康委员会", "Zhengzhou Municipal Health Commission"),
    ("410200", "开封市卫生健康委员会", "Kaifeng Municipal Health Commission"),
    ("410300", "洛阳市卫生健康委员会", "Luoyang Municipal Health Commission"),
    ("410400", "平顶山市卫生健康委员会", "Pingdingshan Municipal Health Commission"),
    ("410500", "安阳市卫生健康委员会", "Anyang Municipal Health Commission"),
    ("410600", "鹤壁市卫生健康委员会", "Hebi Municipal Health Commission"),
    ("410700", "新乡市卫生健康委员会", "Xinxiang Municipal Health Commission"),
    ("410800", "焦作市卫生健康委员会", "Jiaozuo Municipal Health Commission"),
    ("410900", "濮阳市卫生健康委员会", "Puyang Municipal Health Commission"),
    ("411000", "许昌市卫生健康委员会", "Xuchang Municipal Health Commission"),
    ("411100", "漯河市卫生健康委员会", "Luohe Municipal Health Commission"),
    ("411200", "三门峡市卫生健康委员会", "Sanmenxia Municipal Health Commission"),
    ("411300", "南阳市卫生健康委员会", "Nanyang Municipal Health Commission"),
    ("411400", "商丘市卫生健康委员会", "Shangqiu Municipal Health Commission"),
    ("411500", "信阳市卫生健康委员会", "Xinyang Municipal Health Commission"),
    ("411600", "周口市卫生健康委员会", "Zhoukou Municipal Health Commission"),
    ("411700", "驻马店市卫生健康委员会", "Zhumadian Municipal Health Commission"),
    ("419001", "济源市卫生健康委员会", "Jiyuan Municipal Health Commission"),
]
HEALTH_KINDS = ("family_planning", "city_health_commission")


def _move(Office, office, parent):
    """Hang `office` (and whatever is below it) under `parent`, rewriting the materialised paths."""
    old_path = office.path
    new_path = f"{parent.path}{office.pk}/"
    Office.objects.filter(pk=office.pk).update(parent=parent, path=new_path)
    for below in Office.objects.filter(path__startswith=old_path).exclude(pk=office.pk):
        Office.objects.filter(pk=below.pk).update(path=new_path + below.path[len(old_path) :])


def _create(Office, *, parent, kind, code, name, name_en):
    office = Office.objects.create(
        name=name, name_en=name_en, kind=kind, agency=HEALTH_COMMISSION, division_code=code, parent=parent
    )
    office.path = f"{parent.path if parent else '/'}{office.pk}/"
    office.save(update_fields=["path"])
    return office


def forwards(apps, schema_editor):
    Office = apps.get_model("accounts", "Office")
    Office.objects.filter(kind__in=HEALTH_KINDS).update(agency=HEALTH_COMMISSION)
    Office.objects.exclude(kind__in=HEALTH_KINDS).update(agency=PUBLIC_SECURITY)
    code, name, name_en = PROVINCE
    province = _create(Office, parent=None, kind="province", code=code, name=name, name_en=name_en)
    cities = {}
    for code, name, name_en in CITIES:
        cities[code[:4]] = _create(
            Office, parent=province, kind="city_health_commission", code=code, name=name, name_en=name_en
        )
    for office in Office.objects.filter(kind="family_planning").order_by("path"):
        office.refresh_from_db()  # a move above may have rewritten its path
        _move(Office, office, cities.get(office.division_code[:4], province))


def backwards(apps, schema_editor):
    Office = apps.get_model("accounts", "Office")
    police = {o.division_code[:4]: o for o in Office.objects.filter(kind="city")}
    police_province = Office.objects.filter(kind="province", agency=PUBLIC_SECURITY).first()
    for office in Office.objects.filter(kind="family_planning").order_by("path"):
        office.refresh_from_db()
        parent = police.get(office.division_code[:4], police_province)
        if parent is not None:
            _move(Office, office, parent)
    Office.objects.filter(kind="city_health_commission").delete()
    Office.objects.filter(kind="province", agency=HEALTH_COMMISSION).delete()


# A migration of its own: on PostgreSQL a schema change may not follow row changes in one transaction, which
# reversing the two together would do.
class Migration(migrations.Migration):
    dependencies = [("accounts", "0013_office_agency")]
    operations = [migrations.RunPython(forwards, backwards)]
