"""The unused `…_like` indexes of the case table (portal.cases.storage.drop_pattern_indexes): its columns are searched
with `=` only."""

from django.db import migrations

from portal.cases.storage import drop_pattern_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('familyplanning', '0011_move_from_familyplanning'),
    ]

    operations = [
        drop_pattern_indexes('familyplanning', 'familyplanningapplication', ('case_number', 'status')),
    ]
