"""Structured logs: JSON lines with a request id, and no resident ID or mobile number in any of them.

Used by Django's LOGGING (settings), by gunicorn (gunicorn.conf.py) and by the Celery worker, so every process
writes the same kind of line. Nothing here imports Django: gunicorn's master loads it before the application.
"""

import contextvars
import logging
import re
import secrets
import traceback
from datetime import datetime

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

# The id of the request (or of the task a request queued) being handled in this thread or task, "" outside one.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
task_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("task_id", default="")

# A request id from a proxy or client is kept only when it is a plain token: nothing that could forge a log line,
# break a header or smuggle markup. Anything else is replaced by a fresh one.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,99}")


def new_request_id() -> str:
    return secrets.token_hex(16)


def accept_request_id(value: str | None) -> str:
    """The incoming X-Request-ID when it is a safe token, else a new id."""
    if value and SAFE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


# --- redaction ------------------------------------------------------------------------------------------------
# Resident ID numbers (GB 11643: 17 digits and a check digit or X) and mainland mobile numbers (1[3-9] and nine
# digits, written with +86/0086/86 or not, and with spaces or hyphens in the usual 3-4-4 places). A number is
# only taken when it stands alone: not part of a longer run of letters or digits (a hash, a timestamp, a code).
_EDGE_BEFORE = r"(?<![0-9A-Za-z])"
_EDGE_AFTER = r"(?![0-9A-Za-z])"
ID_NUMBER = re.compile(_EDGE_BEFORE + r"(\d{6})(\d{8})(\d{3})([0-9Xx])" + _EDGE_AFTER)
OLD_ID_NUMBER = re.compile(_EDGE_BEFORE + r"\d{6}[0-9]{6}\d{3}" + _EDGE_AFTER)  # 15-digit, before 1999
MOBILE = re.compile(
    r"(?<![0-9A-Za-z+])(?:(?:\+|00)?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})" + _EDGE_AFTER,
)


def _mask_id(match: re.Match) -> str:
    # The way pages show it (docs/architecture.md#identity): the first four and the last four characters.
    whole = match.group(0)
    return whole[:4] + "*" * (len(whole) - 8) + whole[-4:]


def _mask_mobile(match: re.Match) -> str:
    return f"{match.group(1)}****{match.group(3)}"


def redact(text: str) -> str:
    """The text with every resident ID number and mainland mobile number masked (4101**********123X, 138****5678)."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    text = ID_NUMBER.sub(_mask_id, text)
    text = OLD_ID_NUMBER.sub(lambda m: m.group(0)[:4] + "*" * 7 + m.group(0)[-4:], text)
    return MOBILE.sub(_mask_mobile, text)


def _redact_value(value):
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    # Anything else is logged as its text, so it is masked as text: Django attaches the request to error records,
    # and its repr carries the query string (an admin search for an ID number).
    return redact(value if isinstance(value, str) else str(value))


# The attributes every LogRecord has; anything else on a record came from `extra=` and is redacted too.
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class RedactFilter(logging.Filter):
    """Masks resident ID numbers and mobile numbers in the message, its arguments, extras and tracebacks.

    Put on handlers (a filter on a logger does not see records propagated from its children). It renders the
    message once and stores the masked text, so no later handler or formatter can see the raw arguments; the
    traceback is rendered and masked too (a database error quotes the row it refused), and extras other than
    numbers become masked text (the request Django attaches to an error record prints its query string).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        if isinstance(record.msg, dict):
            record.msg = _redact_value(record.msg)
        else:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a bad format string must not lose the line
                message = f"{record.msg!r} {record.args!r}"
            record.msg = redact(message)
        record.args = None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                setattr(record, key, _redact_value(value))
        record._redacted = True
        return True


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (and `task_id` inside a Celery task) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id_var.get()
        task_id = task_id_var.get()
        if task_id and not getattr(record, "task_id", ""):
            record.task_id = task_id
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object a line: time, level, logger, message, request_id, plus any extras and the traceback."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger", "asctime": "time"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args or ("%(asctime)s %(levelname)s %(name)s %(message)s",), **kwargs)

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        # ISO 8601 with milliseconds and the UTC offset: sortable and unambiguous across machines.
        return datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")
