"""Private file storage under MEDIA_ROOT/private: no URL, random names, atomic writes."""

import contextlib
import os
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils import timezone
from django.utils.deconstruct import deconstructible


@deconstructible(path="portal.documents.storage.PrivateStorage")
class PrivateStorage(FileSystemStorage):
    """Files that only a permission-checked view may serve.

    The location follows settings.MEDIA_ROOT (re-read when a test overrides it), and there is no
    base URL: nothing under it is ever reachable by a public address.
    """

    def __init__(self):
        super().__init__(file_permissions_mode=0o640, directory_permissions_mode=0o750)

    @property
    def base_location(self):
        return str(Path(settings.MEDIA_ROOT) / "private")

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no URL; link to the documents:download view instead.")

    def _save(self, name, content):
        # Write beside the target and rename, so a reader never sees half a file and a crash
        # leaves at most a dot-file that is removed below.
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, mode=self.directory_permissions_mode, exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".part")
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


private_storage = PrivateStorage()


def new_storage_name(extension: str) -> str:
    """documents/YYYY/MM/<uuid4 hex>.<ext>: nothing of the citizen's file name reaches the disk."""
    now = timezone.localtime()
    return f"documents/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{extension}"


def upload_to(instance, filename):
    """For FileField.save() callers: keep only the extension, which the service has already decided."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return new_storage_name(extension if extension.isalnum() and len(extension) <= 5 else "bin")
