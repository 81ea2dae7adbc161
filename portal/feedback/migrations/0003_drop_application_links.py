"""The foreign keys to family planning's applications go (0002 copied them into service + case number); one
rating per case (一事一评) now holds for every service."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0002_generic_case_reference'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='feedback',
            name='application',
        ),
        migrations.RemoveField(
            model_name='rating',
            name='application',
        ),
        migrations.AddConstraint(
            model_name='rating',
            constraint=models.UniqueConstraint(condition=models.Q(('case_number', ''), _negated=True), fields=('service', 'case_number'), name='rating_one_per_case'),
        ),
    ]
