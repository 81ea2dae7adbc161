"""The shape of the commands that import one file all or nothing (import_offices, import_staff)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.office_import import ImportFailed


class FileImportCommand(BaseCommand):
    """Takes the file and --dry-run; prints each bad row and fails without writing, or prints what was counted."""

    counted = ""  # what the counts are of ("offices", "staff")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check the file and count, but write nothing.")

    def run_import(self, importer, *, file: Path, dry_run: bool, **options):
        """`importer(path=, dry_run=, **options)`: its result has created, updated and unchanged lists."""
        try:
            result = importer(path=file, dry_run=dry_run, **options)
        except ImportFailed as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(f"{file}: {len(exc.errors)} error(s); nothing was written.") from None
        prefix = "dry run, nothing written: " if dry_run else ""
        self.stdout.write(
            f"{prefix}{self.counted} created {len(result.created)}, updated {len(result.updated)}, "
            f"unchanged {len(result.unchanged)}"
        )
        return result
