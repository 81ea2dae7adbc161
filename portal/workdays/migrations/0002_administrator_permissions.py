"""Administrators keep the holiday calendar; they may read the missing-year notices."""

from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.roles import grant_permissions

    grant_permissions(
        apps,
        {
            "administrator": [
                "workdays.add_calendarday", "workdays.change_calendarday",
                "workdays.delete_calendarday", "workdays.view_calendarday",
                "workdays.add_calendaryear", "workdays.change_calendaryear",
                "workdays.delete_calendaryear", "workdays.view_calendaryear",
                "workdays.view_missingyearnotice",
            ],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("workdays", "0001_initial"), ("accounts", "0003_role_permissions")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
