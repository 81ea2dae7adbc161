"""Offices get a stable code (the office import matches by it); filled in 0016, unique from 0017."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0014_health_commission_tree")]
    operations = [
        migrations.AddField(
            model_name="office",
            name="code",
            field=models.CharField(blank=True, default="", max_length=40, verbose_name="office code"),
            preserve_default=False,
        ),
    ]
