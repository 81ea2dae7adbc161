"""Checking an uploaded PDF: the portal's signature over it, anything changed after signing, and its SHA-256."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TypedDict

from django.db.models import Q

from .logbuffer import verification_log_record
from .lookup import Reason, Verdict, VerificationJSON, VerificationResult, lookup_row, reason_text, result_for
from .models import DocumentStatus, IssuedDocument, VerificationLog


@dataclass(frozen=True)
class PdfVerification:
    signed: bool
    signature_valid: bool  # the portal's key signed it and the signed bytes check out
    signature_intact: bool  # nothing changed since signing (a document timestamp or DSS added later is no change)
    hash_matches: bool  # the exact bytes are those of a document the portal issued
    document: VerificationResult | None = None
    # The signed revision checks out, but something was appended or changed after it (pdfcheck.revision_changes).
    changed_after_signing: bool = False

    @property
    def genuine(self) -> bool:
        """Genuine and unaltered: a valid, intact signature AND the SHA-256 of an issued document."""
        return self.signature_valid and self.signature_intact and self.hash_matches

    @property
    def result(self) -> str:
        if self.genuine:
            return "genuine"
        if not self.signed:
            return "unsigned"
        if not self.signature_intact:
            return "altered"
        if not self.signature_valid:
            return "bad_signature"
        return "unknown_hash"

    @property
    def verdict(self) -> str:
        return self.document.verdict if self.genuine and self.document else Verdict.NOT_VALID

    @property
    def valid(self) -> bool:
        return self.verdict == Verdict.VALID

    @property
    def reason(self) -> str | None:
        if self.genuine and self.document:
            return self.document.reason
        if self.result == "altered":
            return Reason.ALTERED
        return Reason.NOT_ISSUED_HERE

    @property
    def reason_text(self) -> str:
        if self.genuine and self.document:
            return self.document.reason_text
        return reason_text(self.reason)

    def as_json(self) -> PdfVerificationJSON:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "reason_text": self.reason_text,
            "result": self.result,
            "signed": self.signed,
            "signature_valid": self.signature_valid,
            "signature_intact": self.signature_intact,
            "changed_after_signing": self.changed_after_signing,
            "hash_matches": self.hash_matches,
            "document": self.document.as_json() if self.document else None,
        }


class PdfVerificationJSON(TypedDict):
    """The answer of POST /api/verify/pdf/ (schema version 2, docs/api/verify.md#pdf-upload)."""

    verdict: str
    reason: str | None
    reason_text: str
    result: str
    signed: bool
    signature_valid: bool
    signature_intact: bool
    changed_after_signing: bool
    hash_matches: bool
    document: VerificationJSON | None


def verify_pdf(*, pdf: bytes, ip: str | None) -> PdfVerification:
    """Check an uploaded PDF: the embedded signature against the portal's certificate, and its SHA-256.

    A signature whose revision checks out but that does not cover the whole file is judged by what came after it
    (pdfcheck.revision_changes): a document timestamp or DSS (PAdES B-LT/B-LTA) is no change; anything else,
    bytes appended included, is a change after signing.
    """
    from portal.pdf import check_signature

    from .pdfcheck import Changes, revision_changes, signed_prefix

    check = check_signature(pdf)
    changes = revision_changes(pdf) if check.signed else Changes.UNREADABLE
    intact = check.intact or (check.valid and changes in (Changes.NONE, Changes.LTA_ONLY))
    changed_after = check.signed and check.valid and changes == Changes.CHANGED
    signed = check.signed
    if not check.valid and signed_prefix(pdf, check_signature) is not None:
        # Unreadable, or refused as a whole (portal.pdf refuses bytes after the last revision), but a validly signed
        # PDF followed by bytes that do not belong to it: changed after it was signed, not a broken signature.
        signed, intact, changed_after = True, False, True
    digest = hashlib.sha256(pdf).hexdigest()
    row = lookup_row(
        IssuedDocument.objects.filter(sha256=digest)
        .exclude(Q(sha256="") | Q(status=DocumentStatus.GENERATING))
        .order_by("-issued_at")
    )
    outcome = PdfVerification(
        signed=signed,
        signature_valid=check.valid or changed_after,
        signature_intact=intact,
        hash_matches=row is not None,
        document=result_for(row, row["code"]) if row else None,
        changed_after_signing=changed_after,
    )
    verification_log_record(
        document_id=row["id"] if row else None, channel=VerificationLog.Channel.PDF, result=outcome.result, ip=ip
    )
    return outcome
