"""Police station officers and supervisors keep their station's visit hours and record visits; administrators too."""

from django.db import migrations

STATION = ["visits.add_visitstation", "visits.change_visitstation", "visits.view_visitstation"]
VISIT = ["visits.view_visit", "visits.change_visit"]


def forwards(apps, schema_editor):
    from accounts.roles import grant_permissions

    grant_permissions(
        apps,
        {
            "police_officer": STATION + VISIT,
            "supervisor": STATION + VISIT,
            "administrator": [*STATION, "visits.delete_visitstation", *VISIT],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial"), ("accounts", "0003_role_permissions")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
