"""Take over the tables of family planning's ratings and feedback (familyplanning 0010 let go of them).

State only: the models keep the table names, columns and indexes they had; no row is copied or lost.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0017_office_code_unique'),
        ('familyplanning', '0011_move_from_familyplanning'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Rating',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('level', models.PositiveSmallIntegerField(choices=[(5, 'Very satisfied'), (4, 'Satisfied'), (3, 'Fairly satisfied'), (2, 'Dissatisfied'), (1, 'Very dissatisfied')], verbose_name='rating')),
                        ('reasons', models.JSONField(blank=True, default=list, verbose_name='reasons')),
                        ('comment', models.TextField(blank=True, max_length=2000, verbose_name='comment')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='rated')),
                        ('application', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='rating', to='familyplanning.familyplanningapplication', verbose_name='application')),
                        ('citizen', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='ratings', to=settings.AUTH_USER_MODEL, verbose_name='citizen')),
                        ('office', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='ratings', to='accounts.office', verbose_name='office')),
                    ],
                    options={
                        'verbose_name': 'service rating',
                        'verbose_name_plural': 'service ratings',
                        'db_table': 'familyplanning_rating',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Feedback',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('case_number', models.CharField(editable=False, max_length=32, unique=True, verbose_name='case number')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='last changed')),
                        ('submitted_at', models.DateTimeField(blank=True, null=True, verbose_name='submitted')),
                        ('clock_limit', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='time limit (working days)')),
                        ('clock_started_on', models.DateField(blank=True, null=True, verbose_name='clock started')),
                        ('due_date', models.DateField(blank=True, null=True, verbose_name='due date')),
                        ('deadline_provisional', models.BooleanField(default=False, help_text='The official holiday calendar for that year is not yet published; recomputed when it is.', verbose_name='provisional deadline')),
                        ('paused_at', models.DateTimeField(blank=True, null=True, verbose_name='clock paused')),
                        ('workdays_left', models.SmallIntegerField(blank=True, null=True, verbose_name='working days left when paused')),
                        ('due_state', models.CharField(blank=True, choices=[('', 'On time'), ('due_soon', 'Due soon'), ('overdue', 'Overdue')], default='', max_length=16, verbose_name='deadline state')),
                        ('frozen_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='frozen')),
                        ('frozen_reason', models.CharField(blank=True, editable=False, max_length=300, verbose_name='why frozen')),
                        ('status', models.CharField(choices=[('open', 'Awaiting an answer'), ('answered', 'Answered')], db_index=True, default='open', max_length=32, verbose_name='status')),
                        ('kind', models.CharField(choices=[('complaint', 'Complaint'), ('suggestion', 'Suggestion'), ('consultation', 'Consultation'), ('follow_up', 'Follow-up of a poor rating')], max_length=16, verbose_name='kind')),
                        ('subject', models.CharField(max_length=200, verbose_name='subject')),
                        ('body', models.TextField(blank=True, max_length=5000, verbose_name='message')),
                        ('staff_named', models.CharField(blank=True, max_length=120, verbose_name='member of staff concerned')),
                        ('answer', models.TextField(blank=True, verbose_name='answer')),
                        ('answered_at', models.DateTimeField(blank=True, null=True, verbose_name='answered')),
                        ('answered_on_time', models.BooleanField(blank=True, null=True, verbose_name='answered on time')),
                        ('answered_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='answered by')),
                        ('applicant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(app_label)s_%(class)s_cases', to=settings.AUTH_USER_MODEL, verbose_name='applicant')),
                        ('application', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='feedback', to='familyplanning.familyplanningapplication', verbose_name='application concerned')),
                        ('assigned_to', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='assigned to')),
                        ('office', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(app_label)s_%(class)s_cases', to='accounts.office', verbose_name='office')),
                        ('rating', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='follow_up', to='feedback.rating', verbose_name='rating')),
                    ],
                    options={
                        'verbose_name': 'complaint, suggestion or consultation',
                        'verbose_name_plural': 'complaints, suggestions and consultations',
                        'db_table': 'familyplanning_feedback',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.AddIndex(
                    model_name='rating',
                    index=models.Index(fields=['office', 'created_at'], name='fp_rating_office_month'),
                ),
                migrations.AddIndex(
                    model_name='feedback',
                    index=models.Index(condition=models.Q(('paused_at__isnull', True), ('status', 'open')), fields=['due_date'], name='fp_feedback_open_due'),
                ),
                migrations.AddIndex(
                    model_name='feedback',
                    index=models.Index(fields=['office', 'status', '-created_at'], name='fp_feedback_office_queue'),
                ),
                migrations.AddIndex(
                    model_name='feedback',
                    index=models.Index(fields=['office', 'kind', 'answered_at'], name='fp_feedback_office_month'),
                ),
            ],
            database_operations=[],
        ),
    ]
