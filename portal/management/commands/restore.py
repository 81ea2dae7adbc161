"""manage.py restore DIR: put a backup of `manage.py backup` back, checking hashes and row counts."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup directory of `manage.py backup`: checks every archive's SHA-256, replaces the database's "
        "tables (pg_restore --clean), checks each table's row count, restores MEDIA_ROOT/private and checks each "
        "file's SHA-256; with --secrets, writes the SECRET_KEY and signing files where the settings name them."
    )

    # On a new machine the signing files are missing (portal.E003, ...) until this very command writes them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path)
        parser.add_argument("--database-url", help="Restore into this database instead (a scratch one for a test).")
        parser.add_argument("--no-media", action="store_true", help="Leave MEDIA_ROOT alone.")
        parser.add_argument("--secrets", action="store_true", help="Also write the secret files (a new machine).")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, source, database_url, no_media, secrets, interactive, **options):
        if interactive:
            answer = input(
                f"This replaces every table of {'the database ' + database_url if database_url else 'the database'}"
                f"{'' if no_media else ' and overwrites files in MEDIA_ROOT'}. Type 'yes' to go on: "
            )
            if answer != "yes":
                raise CommandError("Nothing restored.")
        try:
            done = restore(source, database_url=database_url, media=not no_media, secrets=secrets)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"restored {done.tables} tables ({done.rows} rows, counts as backed up), {done.files} files "
            f"(hashes as backed up), {len(done.secrets)} secret files"
        )
