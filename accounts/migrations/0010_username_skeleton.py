"""The confusable skeleton of every username (accounts.usernames), in an indexed column, filled for existing users.

Existing accounts whose names already look alike keep them (the column is not unique); each such group is logged
by account numbers so that an administrator can look at them. New names are checked against the column.
"""

import logging
from typing import Any

from django.db import migrations, models

from accounts.usernames import username_skeleton

logger = logging.getLogger("accounts.migrations")


def fill_skeletons(apps: Any, schema_editor: Any) -> None:
    User = apps.get_model("accounts", "User")
    batch = []
    for user in User.objects.order_by("pk").only("pk", "username").iterator(chunk_size=2000):
        user.username_skeleton = username_skeleton(user.username)
        batch.append(user)
        if len(batch) >= 2000:
            User.objects.bulk_update(batch, ["username_skeleton"])
            batch = []
    if batch:
        User.objects.bulk_update(batch, ["username_skeleton"])
    groups = (
        User.objects.values("username_skeleton")
        .annotate(n=models.Count("pk"))
        .filter(n__gt=1)
        .values_list("username_skeleton", flat=True)
    )
    for skeleton in groups:
        pks = list(User.objects.filter(username_skeleton=skeleton).order_by("pk").values_list("pk", flat=True))
        logger.warning("usernames of users %s look alike (one confusable skeleton)", ", ".join(map(str, pks)))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_canonical_email_addresses")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=600),
        ),
        migrations.RunPython(fill_skeletons, migrations.RunPython.noop, elidable=True),
    ]
