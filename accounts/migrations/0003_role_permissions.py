from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.roles import grant_permissions

    grant_permissions(
        apps,
        {
            "administrator": [
                "accounts.view_user", "accounts.change_user", "accounts.add_user",
                "accounts.view_office", "accounts.change_office", "accounts.add_office",
                "auth.view_group",
            ],
            "supervisor": ["accounts.view_office"],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_henan_offices_and_roles"), ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
