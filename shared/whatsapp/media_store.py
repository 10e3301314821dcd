"""Where WhatsApp media downloaded at intake is kept: a local folder or an S3-compatible bucket.

Keys are `/`-separated relative paths (see `media_key`); both stores refuse keys that could escape their root,
so a key that works on one works on the other. boto3 is imported only when an S3 client is first needed.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Protocol, runtime_checkable

from shared.config import Settings, get_settings
from shared.errors import NotFound, ServiceUnavailable
from shared.s3 import LazyS3Bucket, s3_client_factory

# The local store keeps each file's content type in `<file>.meta.json` beside it: extensions are lossy
# (`audio/ogg; codecs=opus`) and a sidecar needs no lookup table that could drift between hosts.
SIDECAR_SUFFIX = ".meta.json"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# WhatsApp's usual types, pinned because Python's built-in table lacks some and the host's table varies.
WHATSAPP_EXTENSIONS = {"audio/ogg": ".ogg", "image/jpeg": ".jpg", "image/webp": ".webp", "audio/mp4": ".m4a"}
MIME_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+\s*(;.*)?$")


class MediaNotFound(NotFound):
    """No media is stored under this key."""


@runtime_checkable
class MediaStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> str: ...
    def get(self, key: str) -> tuple[bytes, str]: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> bool: ...
    def delete_prefix(self, prefix: str) -> int: ...


def _checked_key(key: str, *, prefix: bool = False) -> str:
    """The key, or ValueError when it is empty, absolute or has an empty, `.`-led or `..` segment."""
    # A prefix may end in `/`; an empty one would erase every conversation's media, so it is refused as a bug.
    parts = (key.removesuffix("/") if prefix else key).split("/")
    if "\\" in key or "\x00" in key or any(not part or part.startswith(".") for part in parts):
        raise ValueError(f"unsafe media key {key!r}")
    return key


def media_key(conversation_id: uuid.UUID | str, message_id: str, filename_or_mimetype: str) -> str:
    """`conversations/<uuid>/<WhatsApp message key>.<ext>`; the same input, the same key.

    Only the id's last part (WhatsApp's own key) is used: the full WAHA id carries the patient's phone
    number, which has no business in object names and access logs (LGPD).
    """
    conversation = uuid.UUID(str(conversation_id))
    parts = message_id.split("_")  # <fromMe>_<chat>_<key>[_<participant>]
    whatsapp_key = parts[2] if len(parts) >= 3 and parts[0] in ("true", "false") else message_id
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", whatsapp_key).strip("-")[:150]
    if not name:
        raise ValueError(f"message id {message_id!r} has no usable characters")
    return f"conversations/{conversation}/{name}{_extension(filename_or_mimetype)}"


def _extension(filename_or_mimetype: str) -> str:
    if MIME_TYPE.match(filename_or_mimetype):
        mime = filename_or_mimetype.split(";")[0].strip().lower()
        extension = WHATSAPP_EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ""
    else:
        extension = Path(filename_or_mimetype).suffix
    extension = re.sub(r"[^a-z0-9]", "", extension.lower())[:10]
    return f".{extension or 'bin'}"


class LocalMediaStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def put(self, key: str, data: bytes, content_type: str) -> str:
        path = self._path(key)
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        # Sidecar first: a crash between the two writes never leaves new bytes without their content type.
        _write_atomically(_sidecar(path), json.dumps({"content_type": content_type}).encode())
        _write_atomically(path, data)
        return path.as_uri()

    def get(self, key: str) -> tuple[bytes, str]:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise MediaNotFound(f"no media under {key!r}") from None
        try:
            content_type = json.loads(_sidecar(path).read_bytes())["content_type"]
        except (FileNotFoundError, ValueError, KeyError):
            content_type = DEFAULT_CONTENT_TYPE
        return data, content_type

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> bool:
        path = self._path(key)
        _sidecar(path).unlink(missing_ok=True)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        self._prune(path.parent)
        return True

    def delete_prefix(self, prefix: str) -> int:
        folder = self._path(prefix.rpartition("/")[0]) if "/" in _checked_key(prefix, prefix=True) else self.root
        files = [p for p in folder.rglob("*") if p.is_file() and p.relative_to(self.root).as_posix().startswith(prefix)]
        for path in files:  # sidecars and interrupted writes' temp files go too: nothing of the patient stays
            path.unlink(missing_ok=True)
        for parent in sorted({p.parent for p in files}, key=lambda p: len(p.parts), reverse=True):
            self._prune(parent)
        return sum(1 for p in files if not p.name.startswith(".") and not p.name.endswith(SIDECAR_SUFFIX))

    def _path(self, key: str) -> Path:
        if _checked_key(key).endswith(SIDECAR_SUFFIX):
            raise ValueError(f"media key {key!r} would collide with a content-type sidecar")
        path = self.root / key
        if not path.resolve().is_relative_to(self.root):  # a symlink inside the root pointing out of it
            raise ValueError(f"media key {key!r} leaves the media folder")
        return path

    def _prune(self, folder: Path) -> None:
        """Remove folders left empty, up to the root, so erasure leaves no per-conversation trace."""
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old bytes or the new ones, never a partial file (temp file + rename, same folder)."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class S3MediaStore(LazyS3Bucket):
    @classmethod
    def from_settings(cls, settings: Settings) -> S3MediaStore:
        settings.require("media_bucket")
        factory = s3_client_factory(settings.media_s3_endpoint_url, settings.media_s3_region,
                                    settings.media_s3_access_key_id, settings.media_s3_secret_access_key)  # fmt: skip
        return cls(settings.media_bucket, client_factory=factory)

    def put(self, key: str, data: bytes, content_type: str) -> str:
        self.client.put_object(Bucket=self.bucket, Key=_checked_key(key), Body=data, ContentType=content_type)
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str) -> tuple[bytes, str]:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=_checked_key(key))
        except self.client.exceptions.NoSuchKey:
            raise MediaNotFound(f"no media under {key!r}") from None
        return response["Body"].read(), response.get("ContentType") or DEFAULT_CONTENT_TYPE

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=_checked_key(key))
        except self.client.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
                return False
            raise
        return True

    def delete(self, key: str) -> bool:
        # S3 answers 204 whether or not the object was there, so ask first.
        existed = self.exists(key)
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return existed

    def delete_prefix(self, prefix: str) -> int:
        deleted = 0
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=_checked_key(prefix, prefix=True)
        )
        for page in pages:  # a page holds at most 1,000 keys, delete_objects' limit
            objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if not objects:
                continue
            response = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
            if response.get("Errors"):
                raise ServiceUnavailable(f"could not delete media under {prefix!r}: {response['Errors'][:3]}")
            deleted += len(objects)
        return deleted


def get_media_store(settings: Settings | None = None) -> MediaStore:
    """The configured media store: MEDIA_STORE=s3 needs MEDIA_BUCKET, `local` writes under MEDIA_DIR."""
    settings = settings or get_settings()
    if settings.media_store == "s3":
        return S3MediaStore.from_settings(settings)
    return LocalMediaStore(Path(settings.media_dir))
