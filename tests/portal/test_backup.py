"""manage.py backup and restore on PostgreSQL: the database, the private files and the secrets, with hashes and row
counts checked on the way back (docs/deploy.md#11-backups)."""

import io
import json
import shutil

import psycopg2
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import User
from portal.backup import Database, sha256
from portal.documents.storage import private_storage
from tests.factories import UserFactory
from tests.portal.production import production_env, run_manage

pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="backup and restore need PostgreSQL"
    ),
    pytest.mark.skipif(not shutil.which("pg_dump"), reason="no pg_dump (Debian's postgresql-client)"),
    pytest.mark.django_db(transaction=True),  # pg_dump sees only what is committed
]


@pytest.fixture
def scratch():
    """An empty database beside the test database, as a restore test on a scratch server would use."""
    source = Database.from_settings()
    name = f"{source.name}_restore"[:63]
    admin = psycopg2.connect(**{**_kwargs(source), "dbname": "postgres"})
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://{source.user}@{source.host or 'localhost'}:{source.port or 5432}/{name}"
    if source.password:
        url = url.replace(f"{source.user}@", f"{source.user}:{source.password}@")
    yield url
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _kwargs(database):
    kwargs = {"dbname": database.name, "user": database.user, "password": database.password}
    kwargs |= {"host": database.host, "port": database.port}
    return {k: v for k, v in kwargs.items() if v}


def secrets_at(directory, settings):
    directory.mkdir()
    files = {}
    for setting, text in (
        ("SIGNING_KEY_FILE", "KEY"),
        ("SIGNING_CERT_FILE", "CERT"),
        ("SIGNING_CHAIN_FILE", "CHAIN"),
        ("SIGNING_TRUST_ROOTS_FILE", "ROOTS"),
        ("SIGNING_HISTORY_FILE", "HISTORY"),
    ):
        path = directory / f"{setting.lower()}.pem"
        path.write_text(f"-----{text} of {directory.name}-----\n")
        setattr(settings, setting, str(path))
        files[setting] = path
    return files


def test_backup_and_restore_keep_every_row_file_and_secret(tmp_path, settings, scratch, monkeypatch):
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    (settings.VAR_DIR / "secret_key").write_text("the-secret-key\n")
    secrets_at(tmp_path / "signing", settings)
    for n in range(3):
        UserFactory(username=f"backed_up_{n}")
    names = [
        private_storage.save(f"documents/{n}.pdf", ContentFile(b"%PDF-1.7 " + bytes([n]) * 5000)) for n in range(3)
    ]
    private_storage.save(".partial/in-progress", ContentFile(b"half"))  # a write in progress is never backed up

    out = io.StringIO()
    call_command("backup", str(tmp_path / "backups"), stdout=out)
    (target,) = (tmp_path / "backups").iterdir()
    manifest = json.loads((target / "manifest.json").read_text())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user")
        assert manifest["tables"]["accounts_user"] == cursor.fetchone()[0] == User.objects.count() >= 3
    assert manifest["tables"]["accounts_office"] > 30  # the offices the migrations create
    assert sorted(manifest["media"]) == sorted(names)
    assert set(manifest["secrets"]) == {
        "secret_key",
        *(f"signing-{n}.pem" for n in ("key", "cert", "chain", "roots", "history")),
    }
    assert (target / "secrets.tar").stat().st_mode & 0o077 == 0
    assert f"{len(manifest['tables'])} tables" in out.getvalue()
    before = {name: sha256(tmp_path / "media" / "private" / name) for name in names}

    # Restore into an empty scratch database, another MEDIA_ROOT and other secret paths: all equal to the backup.
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")
    settings.VAR_DIR = tmp_path / "new-var"
    new_secrets = secrets_at(tmp_path / "new-signing", settings)
    for path in new_secrets.values():
        path.unlink()
    out = io.StringIO()
    call_command("restore", str(target), "--database-url", scratch, "--secrets", "--noinput", stdout=out)
    assert f"restored {len(manifest['tables'])} tables" in out.getvalue()
    restored = psycopg2.connect(scratch)
    with restored.cursor() as cursor:
        cursor.execute("SELECT username FROM accounts_user WHERE username LIKE 'backed_up_%%' ORDER BY 1")
        assert [row[0] for row in cursor.fetchall()] == ["backed_up_0", "backed_up_1", "backed_up_2"]
    restored.close()
    assert {name: sha256(tmp_path / "restored-media" / "private" / name) for name in names} == before
    assert not (tmp_path / "restored-media" / "private" / ".partial").exists()
    assert new_secrets["SIGNING_KEY_FILE"].read_text() == "-----KEY of signing-----\n"
    assert new_secrets["SIGNING_KEY_FILE"].stat().st_mode & 0o777 == 0o400
    assert (tmp_path / "new-var" / "secret_key").read_text() == "the-secret-key\n"

    # A damaged archive is refused before anything is touched.
    with (target / "media.tar").open("r+b") as f:
        f.seek(600)
        f.write(b"X")
    with pytest.raises(CommandError, match="media.tar: missing, or not the file the backup wrote"):
        call_command("restore", str(target), "--database-url", scratch, "--noinput", stdout=io.StringIO())


def test_backup_refuses_files_in_a_bucket(tmp_path, settings):
    settings.STORAGE_BACKEND = "s3"
    with pytest.raises(CommandError, match="STORAGE_BACKEND=s3"):
        call_command("backup", str(tmp_path), stdout=io.StringIO())


def test_a_new_machine_restores_its_secrets_before_it_has_any(tmp_path, settings, scratch):
    """`manage.py restore --secrets` on a machine without the signing files: the production checks that would report
    them missing must not stop the command that brings them back."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.VAR_DIR = tmp_path / "var"
    secrets_at(tmp_path / "signing", settings)
    call_command("backup", str(tmp_path / "backups"), stdout=io.StringIO())
    (target,) = (tmp_path / "backups").iterdir()

    machine = tmp_path / "new-machine"
    env = production_env(machine)
    shutil.rmtree(machine / "signing")
    env.update(SILENCED_SYSTEM_CHECKS="portal.E009", MEDIA_ROOT=str(machine / "media"))
    # The operator's one-off key for this command (the machine's own comes back in secrets.tar).
    done = run_manage(machine, "restore", str(target), "--database-url", scratch, "--secrets", "--noinput", **env)
    assert done.returncode == 0, done.stderr
    assert "restored" in done.stdout and "secret files" in done.stdout
    assert (machine / "signing" / "key.pem").read_text() == "-----KEY of signing-----\n"
    assert (machine / "signing" / "history.pem").is_file()
