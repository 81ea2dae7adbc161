from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.roles import grant_permissions

    grant_permissions(
        apps,
        {
            "administrator": [
                "accounts.view_misusereport", "accounts.change_misusereport",
                # Enrolling staff in TOTP (docs/architecture.md#security-and-privacy).
                "otp_totp.view_totpdevice", "otp_totp.add_totpdevice",
                "otp_totp.change_totpdevice", "otp_totp.delete_totpdevice",
            ],
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_user_data_consent_at_misusereport_mobilecode"),
        ("otp_totp", "0003_add_timestamps"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
