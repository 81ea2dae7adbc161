"""The criminal-record register: the automatic check by ID number, and its imports, run as jobs by the worker.

An administrator uploads a CSV; the file is stored privately with its SHA-256 and a RegisterImport job is queued
(register_import_start). The worker (run_import_job) checks the stored file against its SHA-256, streams the rows
into a staging table, chunk by chunk, reporting progress and looking for a cancellation between chunks: on SQLite
each row through _clean_row, on PostgreSQL the raw CSV by COPY, then every row checked in SQL by the same rules
(sql.py; tests/services/test_register_sql.py proves the two equal) — or, for a full import of the usual export (a
plain file of simple rows), each chunk checked by the worker (simple.py, proven by the same tests) and COPYed
straight into the staging table — then checks what only the whole file shows (a
record id twice; a change to a record the register lacks) and puts the result in place in one transaction:

- a full import replaces the register. On PostgreSQL the staging table is a copy of the register's table (loaded
  with COPY, its indexes built afterwards) and the swap drops the old table and renames the new one into place: the
  officers' checks read the old register until that moment and wait only for the rename. Elsewhere (SQLite, `make
  run`) the swap deletes and inserts in one transaction.
- a delta import applies add / correct / seal / remove by record id in one transaction.

Any bad row, a cancellation or a crash before that transaction leaves the register exactly as it was. The open
applications whose check result changed get a timeline entry, written in the same transaction.

The modules, one job each: rules (the rules of a row in Python), reading (the stored file read and hashed), raw (the
COPY loading), simple (the simple rows, recognised by the worker), sql (the same rules in set-based SQL), stage (the staging table), jobs (the worker's part), progress (the
job's record), swap (a full import put in place), delta (a delta import applied), affected (the open applications a
change reaches), control (start, cancel, run again, the sweep), lookup (the officers' check).
"""

from .control import register_import_cancel, register_import_restart, register_import_start, register_import_sweep
from .jobs import import_lock, run_import_job
from .lookup import register_blocking, register_matches
from .progress import ImportCancelled
from .reading import FileProblem, expected_columns, file_sha256, header_problem, iter_records, iter_rows
from .rules import (
    ACTIONS,
    CSV_COLUMNS,
    DELTA_COLUMNS,
    FULL_COLUMNS,
    FULL_OPTIONAL_COLUMNS,
    MAX_CHANGED_CASES_LISTED,
    MAX_REJECTIONS_LISTED,
    TEXT_LIMITS,
)
from .stage import STAGE_COLUMNS, STAGE_PREFIX, Stage, raw_table_name, stage_table_name

__all__ = [
    "ACTIONS",
    "CSV_COLUMNS",
    "DELTA_COLUMNS",
    "FULL_COLUMNS",
    "FULL_OPTIONAL_COLUMNS",
    "MAX_CHANGED_CASES_LISTED",
    "MAX_REJECTIONS_LISTED",
    "STAGE_COLUMNS",
    "STAGE_PREFIX",
    "TEXT_LIMITS",
    "FileProblem",
    "ImportCancelled",
    "Stage",
    "expected_columns",
    "file_sha256",
    "header_problem",
    "import_lock",
    "iter_records",
    "iter_rows",
    "raw_table_name",
    "register_blocking",
    "register_import_cancel",
    "register_import_restart",
    "register_import_start",
    "register_import_sweep",
    "register_matches",
    "run_import_job",
    "stage_table_name",
]
