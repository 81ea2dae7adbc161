"""manage.py backup DIR: the database, the private files and the secrets of one machine (docs/deploy.md#11-backups)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the PostgreSQL database (pg_dump, custom format), MEDIA_ROOT/private and the secret files into a new "
        "directory DIR/portal-<time>/ with a manifest of SHA-256 hashes and row counts."
    )

    # A backup runs even while a setting is wrong (a broken SMS gateway must not stop the nightly backup).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("destination", type=Path)
        parser.add_argument(
            "--no-secrets", action="store_true", help="Leave out the SECRET_KEY file and the signing files."
        )

    def handle(self, *args, destination, no_secrets, **options):
        try:
            target, manifest = backup(destination, secrets=not no_secrets)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{target}: {len(manifest.tables)} tables, {sum(manifest.tables.values())} rows, "
            f"{len(manifest.media)} files, {len(manifest.secrets)} secret files"
        )
