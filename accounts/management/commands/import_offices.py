"""Import the office tree from a CSV or JSON file (docs/deploy.md#offices-and-staff)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.office_import import ImportFailed, import_offices


class Command(BaseCommand):
    help = (
        "Create or update offices from a .csv or .json file with the columns code, parent_code, agency, kind, "
        "division_code, name, name_en, address, hours, phone; offices are matched by code. Nothing is written if "
        "any row is bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check the file and count, but write nothing.")

    def handle(self, *args, file, dry_run, **options):
        try:
            result = import_offices(path=file, dry_run=dry_run)
        except ImportFailed as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(f"{file}: {len(exc.errors)} error(s); nothing was written.") from None
        prefix = "dry run, nothing written: " if dry_run else ""
        self.stdout.write(
            f"{prefix}offices created {len(result.created)}, updated {len(result.updated)}, "
            f"unchanged {len(result.unchanged)}"
        )
