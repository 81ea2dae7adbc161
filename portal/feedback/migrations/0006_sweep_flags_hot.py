"""Feedback's deadline flags are HOT updates too (issue 17): no index holds its due_state, and its pages keep room
for the new row version (fillfactor 85, PostgreSQL only; old pages get it only when the table is rewritten:
docs/deploy.md)."""

from django.db import migrations

from portal.cases.storage import set_fillfactor


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0005_drop_unused_pattern_indexes'),
    ]

    operations = [
        set_fillfactor('feedback', 'feedback', 85),
    ]
