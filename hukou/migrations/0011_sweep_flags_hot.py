"""The deadline sweep's flags are HOT updates (issue 17): no index holds due_state any more (the desk and the queue
find the flagged cases by the office's open cases by due date, `*_office_open_due`), and the table's pages keep room
for the new row version (fillfactor 85, PostgreSQL only; old pages get it only when the table is rewritten:
docs/deploy.md)."""

from django.db import migrations

from portal.cases.storage import set_fillfactor


class Migration(migrations.Migration):

    dependencies = [
        ('hukou', '0010_drop_unused_pattern_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='migrationapplication',
            name='hk_app_acting_flagged',
        ),
        set_fillfactor('hukou', 'migrationapplication', 85),
    ]
