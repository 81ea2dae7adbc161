"""Indexes for the administrators' user list at a province's scale (newest first, the staff, prefix searches)."""

from django.db import migrations, models

# The admin searches "username__istartswith" and "email__istartswith", which PostgreSQL runs as
# UPPER(col::text) LIKE 'PREFIX%'. Only an index on that expression with text_pattern_ops serves it in every
# collation; the operator class is PostgreSQL's, so these are made here, on PostgreSQL only.
PREFIX_INDEXES = {
    "accounts_user_username_upper": "username",
    "accounts_user_email_upper": "email",
}


def create_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in PREFIX_INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "accounts_user" (UPPER("{column}"::text) text_pattern_ops)'
        )


def drop_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in PREFIX_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_misuse_and_totp_permissions'),
        ('auth', '0012_alter_user_first_name_max_length'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='user',
            index=models.Index(fields=['-date_joined'], name='accounts_user_joined'),
        ),
        migrations.AddIndex(
            model_name='user',
            index=models.Index(condition=models.Q(('is_staff', True)), fields=['-date_joined'], name='accounts_user_staff_joined'),
        ),
        migrations.RunPython(create_prefix_indexes, drop_prefix_indexes),
    ]
