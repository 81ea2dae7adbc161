"""Every office belongs to an agency (the data, and the health commissions' tree, are in 0010)."""

from django.db import migrations, models

PUBLIC_SECURITY = "public_security"


class Migration(migrations.Migration):
    dependencies = [("accounts", "0012_identity_assurance")]
    operations = [
        migrations.AlterField(
            model_name="office",
            name="kind",
            field=models.CharField(
                choices=[
                    ("province", "Provincial department"),
                    ("city", "Municipal public security bureau"),
                    ("county", "County or district bureau"),
                    ("police_station", "Police station"),
                    ("household_admin", "Municipal household administration"),
                    ("family_planning", "Health and family-planning office"),
                    ("city_health_commission", "Municipal health commission"),
                ],
                max_length=32,
                verbose_name="kind",
            ),
        ),
        migrations.AddField(
            model_name="office",
            name="agency",
            field=models.CharField(
                choices=[("public_security", "Public security"), ("health_commission", "Health commission")],
                default=PUBLIC_SECURITY,
                help_text="Its staff see only the cases of the services this agency handles.",
                max_length=32,
                verbose_name="agency",
            ),
            preserve_default=False,
        ),
    ]
