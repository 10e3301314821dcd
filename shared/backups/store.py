"""Where backups are kept: a local folder (`clinicbot local`) or an S3-compatible bucket (production).

Archives travel as files (they can be large: boto3's transfer manager uploads in parts), manifests as bytes.
Keys are `/`-separated relative paths; both stores refuse keys that could leave their root.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

from shared.backups.errors import BackupError, BackupNotFound
from shared.config import Settings, get_settings
from shared.errors import BadRequest
from shared.s3 import LazyS3Bucket, s3_client_factory


@runtime_checkable
class BackupStore(Protocol):
    location: str

    def upload(self, key: str, source: Path) -> None: ...
    def download(self, key: str, target: Path) -> None: ...
    def write(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes: ...
    def keys(self, prefix: str) -> list[str]: ...
    def delete(self, keys: list[str]) -> None: ...


def checked_key(key: str) -> str:
    """The key, or BadRequest when it is empty, absolute, or has an empty, `.`-led or `..` segment."""
    if not key or "\\" in key or "\x00" in key or any(not part or part.startswith(".") for part in key.split("/")):
        raise BadRequest(f"not a backup key: {key!r} (keys look like backups/2026/12/04/20261204T030000Z-daily.dump)")
    return key


class LocalBackupStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.location = str(self.root)

    def upload(self, key: str, source: Path) -> None:
        path = self._path(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as temporary:
            try:
                with open(source, "rb") as file:
                    shutil.copyfileobj(file, temporary, 1024 * 1024)
                temporary.flush()
                os.fsync(temporary.fileno())
            except BaseException:
                Path(temporary.name).unlink(missing_ok=True)
                raise
        os.replace(temporary.name, path)  # readers see the whole archive or none of it

    def download(self, key: str, target: Path) -> None:
        try:
            shutil.copyfile(self._path(key), target)
        except FileNotFoundError:
            raise BackupNotFound(f"no backup file under {key!r} in {self.location}") from None

    def write(self, key: str, data: bytes) -> None:
        source = Path(tempfile.mkstemp(prefix="clinicbot-manifest-")[1])
        try:
            source.write_bytes(data)
            self.upload(key, source)
        finally:
            source.unlink(missing_ok=True)

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BackupNotFound(f"no backup under {key!r} in {self.location}") from None

    def keys(self, prefix: str) -> list[str]:
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        names = (path.relative_to(self.root).as_posix() for path in folder.rglob("*") if path.is_file())
        return sorted(name for name in names if not any(part.startswith(".") for part in name.split("/")))

    def delete(self, keys: list[str]) -> None:
        for key in keys:  # in the order given: the manifest first, so no listed backup ever lacks its archive
            path = self._path(key)
            path.unlink(missing_ok=True)
            for parent in path.parents:  # leave no empty day folders behind
                if parent == self.root or not parent.is_relative_to(self.root):
                    break
                try:
                    parent.rmdir()
                except OSError:  # not empty
                    break

    def _path(self, key: str) -> Path:
        path = self.root / checked_key(key)
        if not path.resolve().is_relative_to(self.root):  # a symlink inside the root pointing out of it
            raise BadRequest(f"backup key {key!r} leaves the backup folder")
        return path


class S3BackupStore(LazyS3Bucket):
    @property
    def location(self) -> str:
        return f"s3://{self.bucket}"

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BackupStore:
        """Its own credentials, not the media bucket's: a backup holds every patient's data."""
        settings.require("backup_bucket")
        factory = s3_client_factory(settings.backup_s3_endpoint_url, settings.backup_s3_region,
                                    settings.backup_s3_access_key_id, settings.backup_s3_secret_access_key)  # fmt: skip
        return cls(settings.backup_bucket, client_factory=factory)

    def upload(self, key: str, source: Path) -> None:
        self.client.upload_file(str(source), self.bucket, checked_key(key))

    def download(self, key: str, target: Path) -> None:
        try:
            self.client.download_file(self.bucket, checked_key(key), str(target))
        except self.client.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
                raise BackupNotFound(f"no backup file under {key!r} in {self.location}") from None
            raise

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=checked_key(key), Body=data, ContentType="application/json")

    def read(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=checked_key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise BackupNotFound(f"no backup under {key!r} in {self.location}") from None

    def keys(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{prefix}/")
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def delete(self, keys: list[str]) -> None:
        objects = [{"Key": checked_key(key)} for key in keys]
        response = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
        if response.get("Errors"):
            raise BackupError(f"could not delete {keys} from {self.location}: {response['Errors'][:3]}")


def get_backup_store(settings: Settings | None = None) -> BackupStore:
    """The configured store: BACKUP_STORE=s3 needs BACKUP_BUCKET, `local` writes under BACKUP_DIR."""
    settings = settings or get_settings()
    if settings.backup_store == "s3":
        return S3BackupStore.from_settings(settings)
    return LocalBackupStore(Path(settings.backup_dir))
