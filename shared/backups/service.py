"""Making, listing and restoring backups.

A backup is `pg_dump --format=custom` of the database, taken in the snapshot that its manifest's row counts were
counted in (a REPEATABLE READ transaction exports it and stays open until pg_dump is done), so the counts are
the archive's, whatever was written meanwhile. A restore checks the archive's SHA-256 before pg_restore runs
and the row counts after; pg_restore runs in one transaction, so a failed restore leaves the target as it was.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from shared.backups import postgres
from shared.backups.errors import BackupCorrupt, BackupError, BackupNotFound, TargetNotEmpty
from shared.backups.retention import prune_backups
from shared.backups.schemas import (
    MANIFEST_SUFFIX,
    BackupKind,
    BackupManifest,
    RestoreResult,
    backup_key,
    manifest_key,
)
from shared.backups.store import BackupStore, checked_key, get_backup_store
from shared.config import Settings, get_settings
from shared.errors import Conflict

log = logging.getLogger(__name__)


def create_backup(
    *,
    database_url: str | None = None,
    store: BackupStore | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> BackupManifest:
    """Dump the database into the store with its manifest, then prune by the retention settings."""
    settings = settings or get_settings()
    store = store or get_backup_store(settings)
    database_url = database_url or settings.database_url
    created_at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    existing = list_backups(store=store, settings=settings)
    kind = _kind_of(created_at, existing)
    key = backup_key(settings.backup_prefix, created_at, kind)
    if any(manifest.created_at == created_at for manifest in existing):
        raise Conflict(f"a backup taken at {created_at:%Y-%m-%dT%H:%M:%SZ} already exists")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="clinicbot-backup-") as folder:
        archive = Path(folder) / "backup.dump"
        server_version, tools, tables = _dump(database_url, archive, settings)
        size, sha256 = archive.stat().st_size, file_sha256(archive)
        store.upload(key, archive)
    manifest = BackupManifest(key=key, kind=kind, created_at=created_at, database=postgres.shown(database_url),
                              server_version=server_version, pg_dump_version=tools.version, size=size,
                              sha256=sha256, tables=tables)  # fmt: skip
    store.write(manifest.manifest_key, manifest.model_dump_json(indent=2).encode())
    log.info("backup %s: %d bytes, %d tables, %d rows in %.1f s", key, size, len(tables), manifest.rows,
             time.monotonic() - started, extra={"backup": key})  # fmt: skip
    prune_backups([*existing, manifest], store=store, settings=settings)
    return manifest


def _kind_of(created_at: datetime, existing: list[BackupManifest]) -> BackupKind:
    week = created_at.isocalendar()[:2]
    same_week = any(manifest.created_at.astimezone(UTC).isocalendar()[:2] == week for manifest in existing)
    return BackupKind.DAILY if same_week else BackupKind.WEEKLY


def _dump(database_url: str, archive: Path, settings: Settings) -> tuple[str, postgres.PgTools, dict[str, int]]:
    """pg_dump into `archive` from the snapshot the row counts are taken in; (server version, tools, counts)."""
    connection = postgres.connect(database_url)
    try:
        tools = postgres.find_pg_tools(postgres.server_major(connection), settings.backup_pg_bin_dir)
        server_version = connection.run("SHOW server_version")[0][0]
        connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = connection.run("SELECT pg_export_snapshot()")[0][0]
        tables = postgres.table_counts(connection)
        arguments = ["--format=custom", f"--snapshot={snapshot}", f"--file={archive}"]
        result = postgres.run_tool(tools, "pg_dump", [*arguments, f"--dbname={_name(database_url)}"], database_url)
        connection.run("COMMIT")
    finally:
        connection.close()
    if result.returncode != 0:
        raise BackupError(f"pg_dump of {postgres.shown(database_url)} failed: {postgres.stderr_tail(result)}")
    return server_version, tools, tables


def list_backups(*, store: BackupStore | None = None, settings: Settings | None = None) -> list[BackupManifest]:
    """Every backup in the store, oldest first."""
    settings = settings or get_settings()
    store = store or get_backup_store(settings)
    manifests = []
    for key in store.keys(settings.backup_prefix):
        if key.endswith(MANIFEST_SUFFIX):
            try:
                manifests.append(BackupManifest.model_validate_json(store.read(key)))
            except ValidationError as error:  # one unreadable manifest must not stop the nightly backup
                log.warning("skipping %s, not a backup manifest: %s", key, error.errors()[:1])
    return sorted(manifests, key=lambda manifest: (manifest.created_at, manifest.key))


def load_manifest(key: str, store: BackupStore) -> BackupManifest:
    """The manifest of the backup whose archive is `key` (its manifest's key is accepted too)."""
    return BackupManifest.model_validate_json(store.read(manifest_key(checked_key(key))))


def restore_backup(
    key: str,
    into_url: str,
    *,
    force: bool = False,
    store: BackupStore | None = None,
    settings: Settings | None = None,
) -> RestoreResult:
    """Restore a backup into an empty database (`force`: over objects of the same names), then check its rows."""
    settings = settings or get_settings()
    store = store or get_backup_store(settings)
    manifest = load_manifest(key, store)
    started = time.monotonic()
    target_major = _check_target(into_url, force)
    tools = postgres.find_pg_tools(max(target_major, manifest.pg_dump_major), settings.backup_pg_bin_dir)
    with tempfile.TemporaryDirectory(prefix="clinicbot-restore-") as folder:
        archive = Path(folder) / "backup.dump"
        try:
            store.download(manifest.key, archive)
        except BackupNotFound:
            raise BackupCorrupt(f"{manifest.key}: the manifest is there, the archive is not",
                                "o arquivo do backup não existe mais") from None  # fmt: skip
        found = file_sha256(archive)
        if found != manifest.sha256:
            raise BackupCorrupt(f"{manifest.key}: its SHA-256 is {found}, the manifest says {manifest.sha256}; "
                                "nothing was restored", "o arquivo não confere com o SHA-256 do manifesto")  # fmt: skip
        arguments = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
        arguments += ["--clean", "--if-exists"] if force else []
        result = postgres.run_tool(tools, "pg_restore", [*arguments, f"--dbname={_name(into_url)}", str(archive)],
                                   into_url)  # fmt: skip
    if result.returncode != 0:
        raise BackupCorrupt(f"pg_restore of {manifest.key} failed, nothing was restored: "
                            f"{postgres.stderr_tail(result)}", "o pg_restore não conseguiu restaurá-lo")  # fmt: skip
    _check_counts(manifest, into_url)
    log.info("restored %s into %s", manifest.key, postgres.shown(into_url), extra={"backup": manifest.key})
    return RestoreResult(manifest.key, postgres.shown(into_url), len(manifest.tables), manifest.rows,
                         time.monotonic() - started)  # fmt: skip


def _check_target(into_url: str, force: bool) -> int:
    """The target server's major version; TargetNotEmpty unless the database is empty or `force`."""
    connection = postgres.connect(into_url)
    try:
        if not force and postgres.has_objects(connection):
            raise TargetNotEmpty(f"{postgres.shown(into_url)} is not empty; restore into an empty database, "
                                 "or pass --force to replace the backup's objects in it")  # fmt: skip
        return postgres.server_major(connection)
    finally:
        connection.close()


def _check_counts(manifest: BackupManifest, into_url: str) -> None:
    connection = postgres.connect(into_url)
    try:
        counts = postgres.table_counts(connection)
    finally:
        connection.close()
    wrong = {table: (rows, counts.get(table)) for table, rows in manifest.tables.items() if counts.get(table) != rows}
    if wrong:
        shown = ", ".join(f"{table} {expected} -> {found}" for table, (expected, found) in list(wrong.items())[:5])
        raise BackupCorrupt(f"{manifest.key} restored other row counts than its manifest's in {len(wrong)} "
                            f"table(s): {shown}", f"as contagens de linhas não conferem em {len(wrong)} "
                            "tabela(s)")  # fmt: skip


def _name(database_url: str) -> str:
    return postgres.parse_database_url(database_url).database


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
