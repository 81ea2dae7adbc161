"""Police officers (both stations), municipal household administrators and supervisors work migration cases."""

from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import grant_permissions

    review = ["hukou.view_migrationapplication", "hukou.change_migrationapplication"]
    grant_permissions(
        apps,
        {
            "police_officer": review,
            "household_admin": review,
            "supervisor": review,
            "administrator": review,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("hukou", "0001_initial"),
        ("accounts", "0006_misuse_and_totp_permissions"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
