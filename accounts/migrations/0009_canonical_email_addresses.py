"""Existing e-mail addresses in their canonical form (accounts.emailaddress): one spelling per mailbox.

Two accounts may already share a mailbox in two spellings (on SQLite "E8B@BÜCHER.EXAMPLE" beside
"e8b@bücher.example"; on any database the punycode spelling). The account that already has the canonical spelling,
or else the oldest, gets it; the others keep theirs, and each is logged (account numbers only, no address) for an
administrator to settle with the holders. Nothing is deleted or merged here.
"""

import logging
from typing import Any

from django.db import migrations
from django.db.models.functions import Lower

from accounts.emailaddress import canonical_email

logger = logging.getLogger("accounts.migrations")


def canonical_addresses(apps: Any, schema_editor: Any) -> None:
    User = apps.get_model("accounts", "User")
    changed = []
    for pk, email in User.objects.order_by("pk").values_list("pk", "email").iterator(chunk_size=2000):
        if email and canonical_email(email) != email:
            changed.append(pk)
    for pk in changed:
        email = User.objects.filter(pk=pk).values_list("email", flat=True).get()
        canonical = canonical_email(email)
        holder = (
            User.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower=canonical)
            .exclude(pk=pk)
            .values_list("pk", flat=True)
            .first()
        )
        if holder is None:
            holder = User.objects.filter(email=canonical).exclude(pk=pk).values_list("pk", flat=True).first()
        if holder is not None:
            logger.warning(
                "e-mail address of user %s left as it was: user %s has the same mailbox; settle it with the holders",
                pk,
                holder,
            )
            continue
        User.objects.filter(pk=pk).update(email=canonical)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_administrators_read_the_outbox")]

    operations = [migrations.RunPython(canonical_addresses, migrations.RunPython.noop, elidable=True)]
