"""The register as officers use it: the records for an ID number, and which of them block a certificate."""

from __future__ import annotations

from accounts import idnumber

from ..models import CriminalRecord


def register_matches(*, id_number: str) -> list[CriminalRecord]:
    """Every record for exactly this ID number (normalised), oldest judgment first; [] for an empty number."""
    number = idnumber.normalize(id_number)
    if not number:
        return []
    return list(CriminalRecord.objects.filter(id_number=number).order_by("judgment_date", "pk"))


def register_blocking(records) -> list[CriminalRecord]:
    """The records that prevent the certificate: every one that is not sealed."""
    return [record for record in records if not record.sealed]
