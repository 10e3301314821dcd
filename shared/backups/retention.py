"""Which backups stay: the newest BACKUP_KEEP_DAILY of any kind, the newest BACKUP_KEEP_WEEKLY weekly ones, and,
however old, the newest good one (no restore check failed it) and the newest that passed a restore check: when
every recent backup turns out corrupt, the last one proven to restore is all the clinic has."""

from __future__ import annotations

import logging

from shared.backups.schemas import BackupKind, BackupManifest
from shared.backups.store import BackupStore, get_backup_store
from shared.config import Settings, get_settings

log = logging.getLogger(__name__)


def backups_to_keep(manifests: list[BackupManifest], keep_daily: int, keep_weekly: int) -> set[str]:
    """The keys (archives) that retention keeps."""
    newest_first = sorted(manifests, key=lambda manifest: manifest.created_at, reverse=True)
    weekly = [manifest for manifest in newest_first if manifest.kind is BackupKind.WEEKLY]
    keep = {manifest.key for manifest in newest_first[:keep_daily] + weekly[:keep_weekly]}
    newest_good = next((manifest for manifest in newest_first if manifest.good), None)
    newest_proven = next((manifest for manifest in newest_first if manifest.verification and manifest.good), None)
    return keep | {manifest.key for manifest in (newest_good, newest_proven) if manifest is not None}


def prune_backups(
    manifests: list[BackupManifest], *, store: BackupStore | None = None, settings: Settings | None = None
) -> list[str]:
    """Delete the backups that retention does not keep, manifest and archive together; their keys."""
    settings = settings or get_settings()
    store = store or get_backup_store(settings)
    keep = backups_to_keep(manifests, settings.backup_keep_daily, settings.backup_keep_weekly)
    deleted = []
    for manifest in manifests:
        if manifest.key not in keep:
            store.delete([manifest.manifest_key, manifest.key])  # manifest first: never a listed backup without data
            deleted.append(manifest.key)
    if deleted:
        log.info("retention deleted %d backup(s): %s", len(deleted), ", ".join(deleted))
    return deleted
