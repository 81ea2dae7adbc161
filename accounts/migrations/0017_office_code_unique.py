"""The office code is unique once 0016 has filled it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0016_fill_office_codes")]
    operations = [
        migrations.AlterField(
            model_name="office",
            name="code",
            field=models.CharField(
                blank=True,
                help_text="Stable code the office import matches offices by, e.g. ps-410100; given when left empty.",
                max_length=40,
                unique=True,
                verbose_name="office code",
            ),
        ),
    ]
