"""The unused `…_like` indexes of the case table (portal.cases.storage.drop_pattern_indexes): its columns are searched
with `=` only."""

from django.db import migrations

from portal.cases.storage import drop_pattern_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0004_anonymous_consultations'),
    ]

    operations = [
        drop_pattern_indexes('feedback', 'feedback', ('case_number', 'status', 'access_hash')),
    ]
