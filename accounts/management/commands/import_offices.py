"""Import the office tree from a CSV or JSON file (docs/deploy.md#offices-and-staff)."""

from accounts.management.file_import import FileImportCommand
from accounts.office_import import import_offices


class Command(FileImportCommand):
    help = (
        "Create or update offices from a .csv or .json file with the columns code, parent_code, agency, kind, "
        "division_code, name, name_en, address, hours, phone; offices are matched by code. Nothing is written if "
        "any row is bad."
    )
    counted = "offices"

    def handle(self, *args, file, dry_run, **options):
        self.run_import(import_offices, file=file, dry_run=dry_run)
