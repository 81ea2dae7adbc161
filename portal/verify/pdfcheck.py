"""What happened to a signed PDF after its signature: nothing, only PAdES long-term updates, or a change.

portal.pdf.check_signature answers whether the signature is the portal's and its signed bytes are intact; this
module answers whether the file still is that signed revision. A document timestamp (/DocTimeStamp) and a DSS added
as incremental updates (PAdES B-LT, B-LTA) leave the signed content as it was, and pyHanko's difference analysis
reports them as ModificationLevel.LTA_UPDATES; anything more, or bytes appended that form no revision at all, is
"changed after it was signed". See docs/api/verify.md#pdf-upload.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from io import BytesIO
from typing import Any

# At most this many earlier "%%EOF" markers are tried when a file does not parse (signed_prefix): enough for a
# few revisions, and bounded for hostile uploads.
_PREFIX_TRIES = 4


class Changes(enum.Enum):
    NONE = "none"  # the signature covers the whole file
    LTA_ONLY = "lta_only"  # only document timestamps and DSS after the signed revision
    CHANGED = "changed"  # anything else after the signed revision
    UNREADABLE = "unreadable"  # no signature to judge by


def revision_changes(pdf: bytes) -> Changes:
    """Judge the file after the last approval signature (/Sig; document timestamps are not approvals)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        signatures = [s for s in reader.embedded_signatures if s.sig_object_type == "/Sig"]
    except Exception:  # noqa: BLE001 - an unreadable upload has nothing to judge
        return Changes.UNREADABLE
    if not signatures:
        return Changes.UNREADABLE
    signature = signatures[-1]
    try:
        coverage = signature.evaluate_signature_coverage()
        if coverage == SignatureCoverageLevel.ENTIRE_FILE:
            return Changes.NONE
        if coverage < SignatureCoverageLevel.ENTIRE_REVISION:
            return Changes.CHANGED
        if not _ends_at_a_revision(pdf):
            return Changes.CHANGED  # bytes after the last %%EOF: no update a reader would even see
        if signature.signed_revision >= reader.xrefs.total_revisions - 1:
            return Changes.CHANGED  # the signed revision is the last one, yet the file goes on
        # The difference analysis of every revision after the signed one (it reads the coverage computed here).
        signature.compute_integrity_info(diff_policy=DEFAULT_DIFF_POLICY)
        diff: Any = signature.diff_result
    except Exception:  # noqa: BLE001 - an update the analysis cannot follow is not one we vouch for
        return Changes.CHANGED
    if isinstance(diff, DiffResult) and diff.modification_level <= ModificationLevel.LTA_UPDATES:
        return Changes.LTA_ONLY
    return Changes.CHANGED


def _ends_at_a_revision(pdf: bytes) -> bool:
    return pdf.rstrip(b"\r\n\t \x00").endswith(b"%%EOF")


def signed_prefix(pdf: bytes, check: Callable[[bytes], Any]) -> bytes | None:
    """The start of `pdf`, up to a "%%EOF", that is a validly signed PDF on its own; None if there is none.

    For a file that does not parse because something was appended after its last revision: `check` is
    portal.pdf.check_signature, whose `signed` and `valid` decide.
    """
    end = len(pdf)
    for _ in range(_PREFIX_TRIES):
        end = pdf.rfind(b"%%EOF", 0, end)
        if end < 0:
            return None
        prefix = pdf[: end + 5]
        if len(pdf) - len(prefix) > 2:  # more than an end-of-line follows
            result = check(prefix + b"\n")
            if result.signed and result.valid:
                return prefix
    return None
