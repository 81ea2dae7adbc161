"""Administrators read the outbox and retry failed messages: a permission, so that portal.notify's admin asks
Django's permission system instead of knowing the staff roles (docs/architecture.md#layers)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.roles import grant_permissions

    grant_permissions(apps, {"administrator": ["notify.view_outboxmessage"]})


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_user_list_indexes"),
        ("notify", "0002_outbox_admin_indexes"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
