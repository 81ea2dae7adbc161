"""Police officers and supervisors review applications; administrators also keep the criminal-record register."""

from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import grant_permissions

    review = ["certificates.view_application", "certificates.change_application"]
    grant_permissions(
        apps,
        {
            "police_officer": review,
            "supervisor": review,
            "administrator": [
                *review,
                "certificates.view_criminalrecord",
                "certificates.add_criminalrecord",
                "certificates.change_criminalrecord",
                "certificates.delete_criminalrecord",
            ],
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0001_initial"),
        ("accounts", "0006_misuse_and_totp_permissions"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
