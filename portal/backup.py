"""Backups on one machine (docs/deploy.md#11-backups): the database with pg_dump, the private files
(MEDIA_ROOT/private) and the secrets (the SECRET_KEY file and the signing files), with a manifest of SHA-256 hashes
and of every table's row count, taken in the same snapshot as the dump; and the restore that checks them all.

A backup is a directory `portal-<UTC time>/` holding `db.dump` (pg_dump's custom format), `media.tar`,
`secrets.tar` (unless left out) and `manifest.json`.
"""

import hashlib
import json
import os
import subprocess  # nosec B404 - pg_dump and pg_restore with argument lists, never a shell
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import psycopg2  # type: ignore[import-untyped]  # no types-psycopg2 in the virtualenv
from django.conf import settings
from psycopg2 import sql

FORMAT = 1
PARTIAL_DIR = ".partial"  # writes in progress in the private storage (portal.documents.storage): never backed up


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class Database:
    """What libpq needs to reach one database: pg_dump's and pg_restore's arguments and psycopg2's."""

    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def from_settings(cls) -> "Database":
        db = settings.DATABASES["default"]
        if db["ENGINE"] != "django.db.backends.postgresql":
            raise BackupError("backup and restore need PostgreSQL (DATABASE_URL=postgres://…); this is " + db["ENGINE"])
        return cls(
            db["NAME"], db.get("USER") or "", db.get("PASSWORD") or "", db.get("HOST") or "", str(db.get("PORT") or "")
        )

    @classmethod
    def from_url(cls, url: str) -> "Database":
        parts = urlparse(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise BackupError(f"not a PostgreSQL URL: {parts.scheme}://…")
        return cls(
            unquote(parts.path.lstrip("/")),
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            parts.hostname or "",
            str(parts.port or ""),
        )

    def args(self) -> list[str]:
        out = ["--dbname", self.name]
        for flag, value in (("--host", self.host), ("--port", self.port), ("--username", self.user)):
            if value:
                out += [flag, value]
        return out

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password  # never on a command line, where `ps` would show it
        return env

    def connect(self):
        kwargs = {
            "dbname": self.name,
            "user": self.user,
            "password": self.password,
            "host": self.host,
            "port": self.port,
        }
        return psycopg2.connect(**{k: v for k, v in kwargs.items() if v}, connect_timeout=10)


def table_counts(cursor) -> dict[str, int]:
    """{table: rows} for every table of the public schema, in the cursor's transaction."""
    cursor.execute(
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    )
    counts = {}
    for (table,) in cursor.fetchall():
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("public", table)))
        counts[table] = cursor.fetchone()[0]
    return counts


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def private_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "private"


def secret_files() -> dict[str, Path]:
    """{name in the archive: where it lives} for the secrets this machine has."""
    return {name: Path(path) for name, path in secret_files_targets().items() if path and Path(path).is_file()}


@dataclass
class Manifest:
    created: str
    database: str
    tables: dict[str, int]
    archives: dict[str, str]  # file of the backup -> SHA-256
    media: dict[str, str] = field(default_factory=dict)  # path under MEDIA_ROOT/private -> SHA-256
    secrets: dict[str, str] = field(default_factory=dict)  # name in secrets.tar -> where it was
    format: int = FORMAT

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=1, sort_keys=True, ensure_ascii=False) + "\n")

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise BackupError(f"{path}: unknown backup format {data.get('format')!r}")
        return cls(**data)


def backup(destination: Path, *, secrets: bool = True) -> tuple[Path, Manifest]:
    """Write a backup directory under `destination`; returns it and its manifest."""
    database = Database.from_settings()
    if settings.STORAGE_BACKEND != "filesystem":
        raise BackupError("the files are in a bucket (STORAGE_BACKEND=s3): back them up with its versioning")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = destination / f"portal-{stamp}"
    target.mkdir(mode=0o700, parents=True)
    # One snapshot for the row counts and the dump: the counts are exactly what the dump holds, writes or not.
    with database.connect() as connection, connection.cursor() as cursor:
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        tables = table_counts(cursor)
        subprocess.run(  # noqa: S603  # nosec B603 B607 - pg_dump from PATH, arguments only
            [  # noqa: S607
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                "--file",
                str(target / "db.dump"),
                *database.args(),
            ],
            env=database.env(),
            check=True,
            capture_output=True,
        )
        connection.rollback()
    # The files after the dump: every file a row of the dump names is there (unless purged since, as it would be).
    media = {}
    root = private_root()
    with tarfile.open(target / "media.tar", "w") as tar:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                relative = path.relative_to(root)
                if path.is_file() and relative.parts[0] != PARTIAL_DIR:
                    media[relative.as_posix()] = sha256(path)
                    tar.add(path, arcname=relative.as_posix(), recursive=False)
    kept = {}
    if secrets:
        old = os.umask(0o077)
        try:
            with tarfile.open(target / "secrets.tar", "w") as tar:
                for name, path in secret_files().items():
                    tar.add(path, arcname=name)
                    kept[name] = str(path)
        finally:
            os.umask(old)
    archives = {
        name: sha256(target / name) for name in ("db.dump", "media.tar", "secrets.tar") if (target / name).exists()
    }
    manifest = Manifest(
        created=stamp, database=database.name, tables=tables, archives=archives, media=media, secrets=kept
    )
    manifest.write(target / "manifest.json")
    return target, manifest


@dataclass
class Restored:
    tables: int
    rows: int
    files: int
    secrets: list[str]


def verify(source: Path) -> Manifest:
    """The manifest, once every archive it names has its recorded hash."""
    manifest = Manifest.read(source / "manifest.json")
    for name, digest in manifest.archives.items():
        if not (source / name).is_file() or sha256(source / name) != digest:
            raise BackupError(f"{source / name}: missing, or not the file the backup wrote (SHA-256 differs)")
    return manifest


def restore(source: Path, *, database_url: str | None = None, media: bool = True, secrets: bool = False) -> Restored:
    """Restore a backup into an existing (empty or previous) database, MEDIA_ROOT and, asked to, the secret files."""
    manifest = verify(source)
    database = Database.from_url(database_url) if database_url else Database.from_settings()
    done = subprocess.run(  # noqa: S603  # nosec B603 B607 - pg_restore from PATH, arguments only
        [  # noqa: S607
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            *database.args(),
            str(source / "db.dump"),
        ],  # fmt: skip
        env=database.env(),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    with database.connect() as connection, connection.cursor() as cursor:
        restored = table_counts(cursor)
    if restored != manifest.tables:
        differ = sorted(
            t for t in manifest.tables.keys() | restored.keys() if manifest.tables.get(t) != restored.get(t)
        )
        raise BackupError("row counts differ from the backup's in: " + ", ".join(differ))
    files = 0
    if media:
        root = private_root()
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(source / "media.tar") as tar:
            tar.extractall(root, filter="data")
        for name, digest in manifest.media.items():
            if not (root / name).is_file() or sha256(root / name) != digest:
                raise BackupError(f"{root / name}: not restored as it was backed up (SHA-256 differs)")
            files += 1
    put = []
    if secrets:
        where = {name: Path(path) for name, path in secret_files_targets().items() if path}
        with tarfile.open(source / "secrets.tar") as tar:
            for member in tar.getmembers():
                target = where.get(member.name)
                extracted = tar.extractfile(member)
                if target is None or extracted is None:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(extracted.read())
                target.chmod(0o400 if member.name == "signing-key.pem" else 0o600)
                put.append(str(target))
    return Restored(tables=len(restored), rows=sum(restored.values()), files=files, secrets=put)


def secret_files_targets() -> dict[str, str]:
    """Where this machine's settings put each secret (the restore writes them there, existing or not)."""
    return {
        "secret_key": os.environ.get("SECRET_KEY_FILE") or str(Path(settings.VAR_DIR) / "secret_key"),
        "signing-key.pem": settings.SIGNING_KEY_FILE,
        "signing-cert.pem": settings.SIGNING_CERT_FILE,
        "signing-chain.pem": settings.SIGNING_CHAIN_FILE,
        "signing-roots.pem": settings.SIGNING_TRUST_ROOTS_FILE,
        "signing-history.pem": settings.SIGNING_HISTORY_FILE,
    }
