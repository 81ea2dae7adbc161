"""Ratings and feedback move to the portal-wide app portal.feedback (app label `feedback`).

State only: the tables `familyplanning_rating` and `familyplanning_feedback` stay where they are, with every row;
portal/feedback/migrations/0001_move_from_familyplanning takes them over (db_table) and 0002 renames their
content types, so permissions and case histories (cases.Transition rows) follow them.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('familyplanning', '0010_desk_count_and_supervisor_queue_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='rating',
                    name='application',
                ),
                migrations.RemoveField(
                    model_name='rating',
                    name='citizen',
                ),
                migrations.RemoveField(
                    model_name='rating',
                    name='office',
                ),
                migrations.DeleteModel(
                    name='Feedback',
                ),
                migrations.DeleteModel(
                    name='Rating',
                ),
            ],
            database_operations=[],
        ),
    ]
