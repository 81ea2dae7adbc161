"""Private file storage: MEDIA_ROOT/private, or an S3-compatible bucket (STORAGE_BACKEND=s3); no URL either way."""

import contextlib
import datetime
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.utils import timezone
from django.utils.deconstruct import deconstructible

# Temporary files of writes in progress, under the storage's location (never a name a document can have).
PARTIAL_DIR = ".partial"


@deconstructible(path="portal.documents.storage.PrivateStorage")
class PrivateStorage(FileSystemStorage):
    """Files that only a permission-checked view may serve.

    The location follows settings.MEDIA_ROOT (re-read when a test overrides it), and there is no
    base URL: nothing under it is ever reachable by a public address.
    """

    if TYPE_CHECKING:
        # Never None here: __init__ sets both.
        file_permissions_mode: int
        directory_permissions_mode: int

    def __init__(self) -> None:
        super().__init__(file_permissions_mode=0o640, directory_permissions_mode=0o750)

    @property
    def base_location(self):
        return str(Path(settings.MEDIA_ROOT) / "private")

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no URL; link to the documents:download view instead.")

    def _partial_file(self, prefix: str):
        """A new temporary file in PARTIAL_DIR: on the same file system as every target, so the rename into place
        is atomic, and all in one folder, so what a killed writer left is found without walking the uploads."""
        directory = os.path.join(self.location, PARTIAL_DIR)
        os.makedirs(directory, mode=self.directory_permissions_mode, exist_ok=True)
        return tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".part")

    def purge_partial_files(self, *, older_than: datetime.timedelta) -> int:
        """Remove the temporary files of writers that died mid-write (SIGKILL, power loss), older than `older_than`
        so that a write in progress is never touched. Returns how many."""
        directory = os.path.join(self.location, PARTIAL_DIR)
        cutoff = time.time() - older_than.total_seconds()
        removed = 0
        with contextlib.suppress(FileNotFoundError), os.scandir(directory) as entries:
            for entry in entries:
                with contextlib.suppress(FileNotFoundError):
                    if entry.name.endswith(".part") and entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)
                        removed += 1
        return removed

    def _save(self, name, content):
        # Write a temporary file and rename it into place, so a reader never sees half a file; a failed write
        # (a full disk) removes it below, and one a killed process left is purged later (purge_partial_files).
        full_path = self.path(name)
        os.makedirs(os.path.dirname(full_path), mode=self.directory_permissions_mode, exist_ok=True)
        fd, tmp_path = self._partial_file(".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                if hasattr(content, "seek"):
                    content.seek(0)
                for chunk in content.chunks():
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_path, self.file_permissions_mode)
            os.replace(tmp_path, full_path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_path)
            raise
        return str(name).replace("\\", "/")

    def save_if_claimed(self, name: str, data: bytes, claim: Callable[[], object]) -> bool:
        """Store `data` under `name` only if `claim()` (a conditional UPDATE, run in a transaction) wins.

        The bytes are written and fsynced to a temporary file first; the rename into place happens inside the
        claiming transaction, so a process killed at any point leaves either nothing that counts or a complete
        file, and a loser of the race never replaces the winner's file.
        """
        full_path = self.path(name)
        os.makedirs(os.path.dirname(full_path), mode=self.directory_permissions_mode, exist_ok=True)
        fd, tmp_path = self._partial_file(".issued-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_path, self.file_permissions_mode)
            with transaction.atomic():
                won = bool(claim())
                if won:
                    os.replace(tmp_path, full_path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_path)
        return won


def _s3_storage_class():
    from storages.backends.s3 import S3Storage

    # Deconstructs as PrivateStorage, like the file-system class: which backend runs is configuration, and
    # switching it must not change a migration.
    @deconstructible(path="portal.documents.storage.PrivateStorage")
    class PrivateS3Storage(S3Storage):
        """Objects in the bucket under AWS_LOCATION, private ACL, overwritten in place, never given a URL.

        Bucket, endpoint, region and credentials come from the AWS_* settings (settings.py, docs/deploy.md).
        """

        def url(self, name, parameters=None, expire=None, http_method=None):
            raise ValueError("Private files have no URL; link to the documents:download view instead.")

        def save_if_claimed(self, name: str, data: bytes, claim: Callable[[], object]) -> bool:
            # An object PUT is atomic: readers see the old object or the new one, never half. Writing inside the
            # claiming transaction means a failed upload rolls the claim back, and only the winner ever writes.
            with transaction.atomic():
                won = bool(claim())
                if won:
                    self._save(name, ContentFile(data))
            return won

    return PrivateS3Storage


def _configured_private_storage():
    if getattr(settings, "STORAGE_BACKEND", "filesystem") == "s3":
        return _s3_storage_class()()
    return PrivateStorage()


private_storage = _configured_private_storage()


def new_storage_name(extension: str) -> str:
    """documents/YYYY/MM/<uuid4 hex>.<ext>: nothing of the citizen's file name reaches the disk."""
    now = timezone.localtime()
    return f"documents/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{extension}"


def upload_to(instance, filename):
    """For FileField.save() callers: keep only the extension, which the service has already decided."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return new_storage_name(extension if extension.isalnum() and len(extension) <= 5 else "bin")
