"""Reading a stored register file: its bytes counted (and hashed) as they are read, its header checked, its records
streamed as Python's csv module reads them."""

from __future__ import annotations

import csv
import hashlib
import io

from django.utils.translation import gettext as _

from ..models import ImportKind
from .rules import DELTA_COLUMNS, FULL_COLUMNS, FULL_OPTIONAL_COLUMNS

READ_BUFFER = 1 << 20


class FileProblem(Exception):
    """The file as a whole cannot be read (encoding, CSV syntax, header); the message is for the administrator."""


class _CountingReader(io.RawIOBase):
    """The stored file's bytes, counted as they are read (the progress bar's position)."""

    def __init__(self, handle, scan=None):
        self.handle = handle
        self.count = 0
        self.scan = scan  # a raw.FileScan fed every byte read, if given

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.handle.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        if self.scan is not None:
            self.scan.update(data)
        return size

    def drain(self):
        """Read what is left (for the SHA-256 of the whole file)."""
        while self.handle and self.readinto(bytearray(READ_BUFFER)):
            pass


def expected_columns(kind: str) -> tuple[tuple, tuple]:
    return (DELTA_COLUMNS, ()) if kind == ImportKind.DELTA else (FULL_COLUMNS, FULL_OPTIONAL_COLUMNS)


def iter_rows(binary, kind: str):
    """(line, row dict) for every row of a UTF-8 CSV (with or without BOM), row None when its column count is wrong.

    Streams: one row in memory at a time. Blank lines are skipped. FileProblem for a bad header, encoding or syntax.
    """
    header, records = iter_records(binary, kind)
    width = len(header)
    for line, values in records:
        yield line, (dict(zip(header, values, strict=True)) if len(values) == width else None)


def header_problem(header: list[str], kind: str) -> FileProblem | None:
    """The FileProblem of a header (the column names, stripped) that does not name the kind's columns, else None."""
    required, optional = expected_columns(kind)
    if sorted(set(header) - set(optional)) != sorted(required) or len(set(header)) != len(header):
        return FileProblem(
            _("The first line must name the columns %(expected)s; it names %(found)s.")
            % {"expected": ",".join(required), "found": ",".join(header) or _("nothing")}
        )
    return None


def iter_records(binary, kind: str):
    """(header, records): the column names, and (line, values) for every non-blank row, as Python's csv reads them.

    The header is read at once (FileProblem if it is wrong); the records stream, with FileProblem for a bad
    encoding or CSV syntax.
    """
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = [name.strip() for name in next(reader, [])]
    except UnicodeDecodeError:
        text.detach()
        raise FileProblem(
            _("The file is not UTF-8 text (near line %(line)d). Save it as “CSV UTF-8” and try again.") % {"line": 2}
        ) from None
    except csv.Error as exc:
        text.detach()
        raise FileProblem(
            _("The file is not valid CSV near line %(line)d: %(error)s") % {"line": reader.line_num, "error": exc}
        ) from None
    problem = header_problem(header, kind)
    if problem:
        text.detach()
        raise problem
    return header, _records(text, reader)


def _records(text, reader):
    line = 1
    try:
        for values in reader:
            line = reader.line_num  # the physical line (1 is the header), as a spreadsheet shows it
            if values:
                yield line, values
    except UnicodeDecodeError:
        raise FileProblem(
            _("The file is not UTF-8 text (near line %(line)d). Save it as “CSV UTF-8” and try again.")
            % {"line": line + 1}
        ) from None
    except csv.Error as exc:
        raise FileProblem(
            _("The file is not valid CSV near line %(line)d: %(error)s") % {"line": reader.line_num, "error": exc}
        ) from None
    finally:
        text.detach()


def file_sha256(handle) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(READ_BUFFER):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
