"""The unused `…_like` indexes of the case table (portal.cases.storage.drop_pattern_indexes): its columns are searched
with `=` only."""

from django.db import migrations

from portal.cases.storage import drop_pattern_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('hukou', '0009_acting_office_column_and_indexes'),
    ]

    operations = [
        drop_pattern_indexes('hukou', 'migrationapplication', ('case_number', 'status', 'permit_number', 'migration_certificate_number')),
    ]
