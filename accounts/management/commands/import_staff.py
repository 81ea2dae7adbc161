"""Import staff accounts from a CSV file and print their one-time authenticator enrolment links
(docs/deploy.md#offices-and-staff)."""

from accounts.management.file_import import FileImportCommand
from accounts.staff_import import import_staff


class Command(FileImportCommand):
    help = (
        "Create or update staff from a .csv file with the columns office_code, role, username, real_name, email, "
        "mobile. Nothing is written if any row is bad. Prints a one-time enrolment link for each member who has no "
        "confirmed authenticator (everyone in the file with --reenrol); never the secret itself."
    )
    counted = "staff"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--reenrol", action="store_true", help="Give everyone in the file a new authenticator (lost phones)."
        )

    def handle(self, *args, file, dry_run, reenrol, **options):
        result = self.run_import(import_staff, file=file, dry_run=dry_run, reenrol=reenrol)
        for username, url in result.enrolments:
            # The link is the credential until it is used: hand it to the member only, over a trusted channel.
            self.stdout.write(f"enrol {username}: {url}")
