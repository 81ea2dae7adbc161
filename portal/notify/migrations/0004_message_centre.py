"""The message centre: which outbox rows carry a secret, and which the user has read on the portal.

Rows written before: the templates that carried a code or a one-time link are marked secret (never mirrored), and
every earlier message counts as read, so nobody finds years of old messages unread on the first visit.
"""

from django.conf import settings
from django.db import migrations, models


# The templates that carried a code or a one-time link when this migration was written (accounts.services).
SECRET_TEMPLATES = (
    "accounts/confirm_email",
    "accounts/mobile_code",
    "accounts/password_reset",
    "accounts/password_reset_code",
)


def mark_existing(apps, schema_editor):
    OutboxMessage = apps.get_model("notify", "OutboxMessage")
    OutboxMessage.objects.filter(template__in=SECRET_TEMPLATES).update(secret=True)
    OutboxMessage.objects.filter(user__isnull=False, read_at__isnull=True).update(read_at=models.F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('notify', '0003_outbox_kept_status'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='outboxmessage',
            name='read_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='read on the portal'),
        ),
        migrations.AddField(
            model_name='outboxmessage',
            name='secret',
            field=models.BooleanField(db_default=False, default=False, help_text="Not shown in the recipient's message centre on the portal.", verbose_name='carries a code or one-time link'),
        ),
        migrations.RunPython(mark_existing, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='outboxmessage',
            index=models.Index(condition=models.Q(('read_at__isnull', True), ('secret', False)), fields=['user'], name='notify_outbox_unread'),
        ),
    ]
