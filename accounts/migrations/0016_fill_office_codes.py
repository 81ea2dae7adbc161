"""Give every existing office the code Office.default_code would: ps-410000 and hc-410000 for the two provincial
offices, ps-<division> for a city bureau, hc-<division> for a city health commission, hukou-<division>, county-,
station-, fp-; when several offices share a kind and division code, the first by primary key gets the plain code and
the others the code followed by their primary key. accounts/data/henan_offices.csv uses the same codes, so importing
it onto a migrated database updates these offices instead of adding a second tree (docs/deploy.md#offices-and-staff).
"""

from django.db import migrations

KIND_PREFIX = {
    "city": "ps",
    "county": "county",
    "police_station": "station",
    "household_admin": "hukou",
    "family_planning": "fp",
    "city_health_commission": "hc",
}
AGENCY_PREFIX = {"public_security": "ps", "health_commission": "hc"}


def forwards(apps, schema_editor):
    Office = apps.get_model("accounts", "Office")
    taken = set()
    for office in Office.objects.order_by("pk"):
        prefix = AGENCY_PREFIX[office.agency] if office.kind == "province" else KIND_PREFIX[office.kind]
        code = f"{prefix}-{office.division_code}"
        if code in taken:
            code = f"{code}-{office.pk}"
        taken.add(code)
        Office.objects.filter(pk=office.pk).update(code=code)


def backwards(apps, schema_editor):
    apps.get_model("accounts", "Office").objects.update(code="")


# Its own migration: on PostgreSQL a schema change may not follow row changes in one transaction.
class Migration(migrations.Migration):
    dependencies = [("accounts", "0015_office_code")]
    operations = [migrations.RunPython(forwards, backwards)]
