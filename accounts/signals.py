"""Signals accounts sends to the layers above it, which it must not import (docs/architecture.md#layers)."""

from django.dispatch import Signal

# Sent inside the transaction that suspended `user` because `by` proved the ID number they share is theirs
# (accounts.identity.assurance_raise); `reason` is the text for timelines. portal.cases freezes the suspended
# account's unfinished cases on it.
account_superseded = Signal()
