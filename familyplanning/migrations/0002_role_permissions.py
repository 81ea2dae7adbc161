"""Family-planning officers and supervisors review applications in the admin."""

from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import grant_permissions

    review = ["familyplanning.view_familyplanningapplication", "familyplanning.change_familyplanningapplication"]
    grant_permissions(apps, {"family_planning_officer": review, "supervisor": review, "administrator": review})


class Migration(migrations.Migration):
    dependencies = [
        ("familyplanning", "0001_initial"),
        ("accounts", "0006_misuse_and_totp_permissions"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
