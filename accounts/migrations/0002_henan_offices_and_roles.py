"""Henan province and its 17 cities plus Jiyuan (docs/architecture.md#identity), and the staff role groups."""
from django.db import migrations

CITIES = [
    ("410100", "郑州市公安局", "Zhengzhou Public Security Bureau"),
    ("410200", "开封市公安局", "Kaifeng Public Security Bureau"),
    ("410300", "洛阳市公安局", "Luoyang Public Security Bureau"),
    ("410400", "平顶山市公安局", "Pingdingshan Public Security Bureau"),
    ("410500", "安阳市公安局", "Anyang Public Security Bureau"),
    ("410600", "鹤壁市公安局", "Hebi Public Security Bureau"),
    ("410700", "新乡市公安局", "Xinxiang Public Security Bureau"),
    ("410800", "焦作市公安局", "Jiaozuo Public Security Bureau"),
    ("410900", "濮阳市公安局", "Puyang Public Security Bureau"),
    ("411000", "许昌市公安局", "Xuchang Public Security Bureau"),
    ("411100", "漯河市公安局", "Luohe Public Security Bureau"),
    ("411200", "三门峡市公安局", "Sanmenxia Public Security Bureau"),
    ("411300", "南阳市公安局", "Nanyang Public Security Bureau"),
    ("411400", "商丘市公安局", "Shangqiu Public Security Bureau"),
    ("411500", "信阳市公安局", "Xinyang Public Security Bureau"),
    ("411600", "周口市公安局", "Zhoukou Public Security Bureau"),
    ("411700", "驻马店市公安局", "Zhumadian Public Security Bureau"),
    ("419001", "济源市公安局", "Jiyuan Public Security Bureau"),
]
ROLES = ["police_officer", "household_admin", "family_planning_officer", "supervisor", "administrator"]


def forwards(apps, schema_editor):
    Office = apps.get_model("accounts", "Office")
    Group = apps.get_model("auth", "Group")
    province = Office.objects.create(
        name="河南省公安厅", name_en="Henan Provincial Public Security Department", kind="province", division_code="410000"
    )
    province.path = f"/{province.pk}/"
    province.save(update_fields=["path"])
    for code, name, name_en in CITIES:
        city = Office.objects.create(name=name, name_en=name_en, kind="city", division_code=code, parent=province)
        city.path = f"{province.path}{city.pk}/"
        city.save(update_fields=["path"])
    for role in ROLES:
        Group.objects.get_or_create(name=role)


def backwards(apps, schema_editor):
    Office = apps.get_model("accounts", "Office")
    Office.objects.filter(kind="city", division_code__in=[c for c, _, _ in CITIES]).delete()
    Office.objects.filter(kind="province", division_code="410000").delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(forwards, backwards)]
