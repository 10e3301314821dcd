"""The weekly restore check and the age of the last good backup (for the 26-hour monitor).

The check restores the newest backup into a scratch database on the application's server (its user needs
CREATEDB), compares the row counts with the manifest and drops the database. The outcome is written into the
manifest (`verification`), so retention and `last_good_backup_age` know a backup that failed it is not good.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.alerts.models import AlertSeverity
from shared.alerts.service import raise_alert
from shared.backups import postgres
from shared.backups.errors import BackupCorrupt
from shared.backups.schemas import BackupManifest, Verification, VerificationResult
from shared.backups.service import list_backups, restore_backup
from shared.backups.store import BackupStore, get_backup_store
from shared.config import Settings, get_settings
from shared.db import session_scope

log = logging.getLogger(__name__)

ALERT_KIND = "backup_verification_failed"


def verify_latest(
    *,
    database_url: str | None = None,
    store: BackupStore | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> VerificationResult:
    """Restore the newest backup into a scratch database and check it; alert the owner when it is unusable."""
    settings = settings or get_settings()
    store = store or get_backup_store(settings)
    database_url = database_url or settings.database_url
    manifests = list_backups(store=store, settings=settings)
    if not manifests:
        _alert(f"Nenhum backup encontrado: a verificação semanal não achou backup algum em {store.location}.",
               location=store.location)  # fmt: skip
        return VerificationResult(None, False, f"no backup in {store.location}")
    latest, started = manifests[-1], time.monotonic()
    problem = reason = None
    scratch_url = postgres.create_scratch_database(database_url)
    scratch = postgres.parse_database_url(scratch_url).database
    try:
        restore_backup(latest.key, scratch_url, store=store, settings=settings)
    except BackupCorrupt as error:
        problem, reason = str(error), error.reason_pt
    finally:
        postgres.drop_database(database_url, scratch)
    checked_at = (now or datetime.now(UTC)).astimezone(UTC)
    verified = latest.model_copy(update={"verification": Verification(checked_at=checked_at, ok=not problem,
                                                                      problem=problem)})  # fmt: skip
    store.write(verified.manifest_key, verified.model_dump_json(indent=2).encode())
    if problem:
        _alert(f"Backup corrompido: o backup de {_local_time(latest, settings)} não passou na verificação "
               f"semanal ({reason}). Faça um novo backup e confira o armazenamento.",
               key=latest.key, problem=problem)  # fmt: skip
    else:
        log.info("backup %s restored and checked: %d tables, %d rows", latest.key, len(latest.tables), latest.rows)
    return VerificationResult(latest.key, not problem, problem, len(latest.tables), latest.rows,
                              time.monotonic() - started, scratch)  # fmt: skip


def last_good_backup_age(
    *, store: BackupStore | None = None, settings: Settings | None = None, now: datetime | None = None
) -> timedelta | None:
    """How long ago the newest backup not known to be bad was taken; None when there is none."""
    settings = settings or get_settings()
    good = [manifest for manifest in list_backups(store=store, settings=settings) if manifest.good]
    if not good:
        return None
    return (now or datetime.now(UTC)) - good[-1].created_at


def _local_time(manifest: BackupManifest, settings: Settings) -> str:
    return f"{manifest.created_at.astimezone(ZoneInfo(settings.clinic_timezone)):%d/%m/%Y %H:%M}"


def _alert(message: str, **details: str) -> None:
    with session_scope() as session:
        raise_alert(session, ALERT_KIND, AlertSeverity.CRITICAL, message, **details)
