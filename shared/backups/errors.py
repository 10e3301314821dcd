"""What can go wrong with a backup. The CLI exits 2 for the caller's mistakes (BadRequest, NotFound, Conflict)
and 1 for BackupError.

ClinicbotError
└── BackupError               pg_dump, pg_restore or the store failed; nothing was restored or stored
    └── BackupCorrupt         the archive does not match its manifest, or does not restore, or restores other counts
BadRequest   (400)            a malformed key or database URL
NotFound     BackupNotFound   no backup under this key
Conflict     TargetNotEmpty   the target database holds objects and --force was not given
"""

from __future__ import annotations

from shared.errors import ClinicbotError, Conflict, NotFound


class BackupError(ClinicbotError):
    """A backup could not be made, read or restored."""


class BackupCorrupt(BackupError):
    """The backup is unusable; `reason_pt` says why in words for the clinic's owner."""

    def __init__(self, detail: str, reason_pt: str) -> None:
        super().__init__(detail)
        self.reason_pt = reason_pt


class BackupNotFound(NotFound):
    """No backup (manifest) under this key."""


class TargetNotEmpty(Conflict):
    """The database to restore into already holds tables, types or functions."""
