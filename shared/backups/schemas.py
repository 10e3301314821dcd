"""A backup's manifest and key, and what restoring and verifying report.

Keys sort by time: `<prefix>/2026/12/04/20261204T030000Z-daily.dump`, its manifest beside it as `….json`.
A backup exists once its manifest does: the manifest is written only after its archive is stored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel

ARCHIVE_SUFFIX = ".dump"
MANIFEST_SUFFIX = ".json"


class BackupKind(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"  # the first backup of an ISO week (UTC)


class Verification(BaseModel):
    checked_at: datetime
    ok: bool
    problem: str | None = None


class BackupManifest(BaseModel):
    key: str  # the archive's key
    kind: BackupKind
    created_at: datetime
    database: str
    server_version: str
    pg_dump_version: str
    format: str = "custom"
    size: int
    sha256: str
    tables: dict[str, int]  # exact rows per table, counted in the snapshot the archive was dumped from
    verification: Verification | None = None  # the last restore check, when there was one

    @property
    def manifest_key(self) -> str:
        return manifest_key(self.key)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    @property
    def good(self) -> bool:
        """Not known to be bad: a backup that no restore check has failed."""
        return self.verification is None or self.verification.ok

    @property
    def pg_dump_major(self) -> int:
        return int(self.pg_dump_version.split("(PostgreSQL)")[1].split(".")[0])


def backup_key(prefix: str, created_at: datetime, kind: BackupKind) -> str:
    at = created_at.astimezone(UTC)
    return f"{prefix}/{at:%Y/%m/%d}/{at:%Y%m%dT%H%M%SZ}-{kind.value}{ARCHIVE_SUFFIX}"


def manifest_key(key: str) -> str:
    return key.removesuffix(ARCHIVE_SUFFIX) + MANIFEST_SUFFIX


@dataclass(frozen=True)
class RestoreResult:
    key: str
    database: str  # the target, password hidden
    tables: int
    rows: int
    seconds: float


@dataclass(frozen=True)
class VerificationResult:
    key: str | None  # None when there was no backup to verify
    ok: bool
    problem: str | None
    tables: int = 0
    rows: int = 0
    seconds: float = 0.0
    scratch_database: str | None = None  # where it was restored, dropped since
