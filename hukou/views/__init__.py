"""The citizen side of /hukou/, one module per group of pages: the guide and pre-check (guide), starting an application
and its sections (sections), check and submit (check), the status page with the answer to a request for
information, withdrawal and deleting a draft (status); what they share in common."""

from .check import check, submitted
from .common import SECTION_TITLES, SECTIONS
from .guide import index, precheck
from .sections import apply, section
from .status import delete_draft, detail, reply, withdraw

__all__ = [
    "SECTIONS",
    "SECTION_TITLES",
    "apply",
    "check",
    "delete_draft",
    "detail",
    "index",
    "precheck",
    "reply",
    "section",
    "submitted",
    "withdraw",
]
