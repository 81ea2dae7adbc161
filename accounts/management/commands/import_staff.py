"""Import staff accounts from a CSV file and print their one-time authenticator enrolment links
(docs/deploy.md#offices-and-staff)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.office_import import ImportFailed
from accounts.staff_import import import_staff


class Command(BaseCommand):
    help = (
        "Create or update staff from a .csv file with the columns office_code, role, username, real_name, email, "
        "mobile. Nothing is written if any row is bad. Prints a one-time enrolment link for each member who has no "
        "confirmed authenticator (everyone in the file with --reenrol); never the secret itself."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check the file and count, but write nothing.")
        parser.add_argument(
            "--reenrol", action="store_true", help="Give everyone in the file a new authenticator (lost phones)."
        )

    def handle(self, *args, file, dry_run, reenrol, **options):
        try:
            result = import_staff(path=file, dry_run=dry_run, reenrol=reenrol)
        except ImportFailed as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(f"{file}: {len(exc.errors)} error(s); nothing was written.") from None
        prefix = "dry run, nothing written: " if dry_run else ""
        self.stdout.write(
            f"{prefix}staff created {len(result.created)}, updated {len(result.updated)}, "
            f"unchanged {len(result.unchanged)}"
        )
        for username, url in result.enrolments:
            # The link is the credential until it is used: hand it to the member only, over a trusted channel.
            self.stdout.write(f"enrol {username}: {url}")
