"""The unused `…_like` indexes of the case table (portal.cases.storage.drop_pattern_indexes): its columns are searched
with `=` only."""

from django.db import migrations

from portal.cases.storage import drop_pattern_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('certificates', '0008_desk_count_and_supervisor_queue_indexes'),
    ]

    operations = [
        drop_pattern_indexes('certificates', 'application', ('case_number', 'status', 'holder_id_number')),
    ]
