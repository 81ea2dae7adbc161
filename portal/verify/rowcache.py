"""Found verification codes cached briefly in the shared cache, and how a revocation keeps it from answering "valid".

The public look-up (lookup.py) reads a code's row here first. Only rows of issued documents are kept (valid or
revoked; one still being issued changes within seconds and an unknown code is not worth a cache entry), for
VERIFY_CACHE_SECONDS (0: no cache; the default is 60 s with Redis, 0 without it, because a cache of one process
could not be told of a revocation made in another).

A revocation must never be answered "valid" from the cache, even by a reader that raced it. So the cache never
holds a verdict that a revocation could leave behind:

- A revocation (issuing.issued_document_revoke) writes a HOLD marker under the code's key inside its transaction,
  before its UPDATE, and writes it again once the transaction commits. The marker lives HOLD_SECONDS; a
  revocation that cannot write it fails and rolls back (a revocation is refused rather than left to a stale cache).
- A reader that finds the marker reads the database and leaves the cache alone. A reader that finds nothing reads
  the database and adds the row only if the key is still empty (SET NX): a marker written meanwhile is never
  overwritten, and a row added before the marker is replaced by it.
- The one reader left is one whose read began before the revocation committed and whose add comes after the marker
  has gone, HOLD_SECONDS after the commit: a reader only adds a row read less than HOLD_SECONDS / 2 ago.

A revocation rolled back leaves the marker: that code is read from the database for an hour, nothing worse. The
cache shares the broker's Redis, which runs with `maxmemory-policy noeviction` (docs/deploy.md), so a marker is
not evicted. Other edits to a row (an office renamed) show after at most VERIFY_CACHE_SECONDS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import monotonic
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from .models import DocumentStatus

logger = logging.getLogger("portal.verify")

HOLD = "hold"  # the marker: "read this code from the database"
HOLD_SECONDS = 3600
CACHED_STATUSES = (DocumentStatus.VALID, DocumentStatus.REVOKED)

LookupRow = dict[str, Any]


def cache_key(code: str) -> str:
    return f"verify:row:{code}"


def _seconds() -> int:
    return int(getattr(settings, "VERIFY_CACHE_SECONDS", 0) or 0)


def cached_row(code: str, load: Callable[[str], LookupRow | None]) -> LookupRow | None:
    """The row of `code` from the cache, or from `load(code)` (the database), cached when that is safe."""
    seconds = _seconds()
    if seconds <= 0:
        return load(code)
    key = cache_key(code)
    started = monotonic()  # before the get: the age of what a reader adds is measured from here
    try:
        found = cache.get(key)
    except Exception as exc:  # noqa: BLE001 - the cache is an optimisation: any fault of it reads the database
        logger.warning("verification cache unreadable (%s); reading the database", exc.__class__.__name__)
        return load(code)
    if isinstance(found, dict):
        return found
    row = load(code)
    if found is None and row is not None and row["status"] in CACHED_STATUSES:
        if monotonic() - started < HOLD_SECONDS / 2:
            try:
                cache.add(key, row, seconds)
            except Exception as exc:  # noqa: BLE001 - as above: not cached this time
                logger.warning("verification cache not written (%s)", exc.__class__.__name__)
    return row


def hold(code: str) -> None:
    """Within a revocation's transaction, before its UPDATE: keep `code` out of the cache, now and after commit.

    Raises if the cache cannot be written, so that the revocation rolls back rather than leave a cached "valid".
    """
    if _seconds() <= 0:
        return
    key = cache_key(code)
    cache.set(key, HOLD, HOLD_SECONDS)

    def again() -> None:
        # For a long transaction whose first marker is about to expire; the first one covers the usual case.
        try:
            cache.set(key, HOLD, HOLD_SECONDS)
        except Exception:  # noqa: BLE001 - committed already; the first marker holds for HOLD_SECONDS
            logger.exception("verification cache: marker for %s not renewed after commit", code)

    transaction.on_commit(again)
