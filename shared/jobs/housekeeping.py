"""The `housekeeping` job (daily, 03:30 on the clinic's clock): what the other tables and Chroma no longer need.

- refresh tokens past their expiry (a live access token always has a live refresh token of its login, so a
  revoked login stays revoked) and revoked-token rows past their token's expiry;
- task records last touched more than TASK_RECORDS_RETENTION_DAYS ago, except a task still in failed_tasks;
- finished job runs older than JOB_RUNS_RETENTION_DAYS, except each job's latest run;
- knowledge-base collections that earlier imports left in Chroma, but the active one and the previous one. The
  previous one is the collection this job found active on an earlier run, carried in its outcome from run to run.
Rows go in batches, each its own transaction, so a first run on a large table never holds one long lock.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import Table, delete, exists, func, select
from sqlalchemy.orm import aliased

from shared.db import session_scope
from shared.jobs.models import JobRun, JobRunStatus
from shared.jobs.registry import JobContext
from shared.tasks.models import FailedTask, TaskRecord
from shared.users.models import RefreshToken, RevokedToken

HOUSEKEEPING = "housekeeping"
BATCH_SIZE = 5000
log = logging.getLogger("clinicbot.jobs")


def run_housekeeping(context: JobContext) -> dict[str, Any]:
    """Delete what is past its expiry or retention; how many rows of each, and what became of the collections."""
    settings, now = context.settings, func.now()
    records_before = now - timedelta(days=settings.task_records_retention_days)
    runs_before = now - timedelta(days=settings.job_runs_retention_days)
    later_run = aliased(JobRun)
    outcome: dict[str, Any] = {
        "refresh_tokens": _delete_batches(RefreshToken.__table__, RefreshToken.expires_at < now),
        "revoked_tokens": _delete_batches(RevokedToken.__table__, RevokedToken.expires_at < now),
        "task_records": _delete_batches(
            TaskRecord.__table__,
            TaskRecord.updated_at < records_before,
            ~exists().where(FailedTask.task_id == TaskRecord.task_id),
        ),
        "job_runs": _delete_batches(
            JobRun.__table__,
            JobRun.status != JobRunStatus.RUNNING,
            JobRun.finished_at < runs_before,
            exists().where(later_run.job == JobRun.job, later_run.slot > JobRun.slot),
        ),
    }
    outcome["knowledge"] = _prune_knowledge(context)
    return outcome


def _delete_batches(table: Table, *conditions: Any) -> int:
    key = next(iter(table.primary_key.columns))
    total = 0
    while True:
        with session_scope() as session:
            chosen = select(key).where(*conditions).limit(BATCH_SIZE).scalar_subquery()
            deleted = session.execute(delete(table).where(key.in_(chosen))).rowcount
        total += deleted
        if deleted < BATCH_SIZE:
            return total


def _prune_knowledge(context: JobContext) -> dict[str, Any]:
    try:
        from shared.knowledge.pruning import prune_knowledge_collections
    except ImportError:  # an image without chromadb has no Chroma folder to tidy
        return {"skipped": "chromadb is not installed here"}
    seen_active, seen_previous = _last_seen_collections()

    def previous_of(active: str) -> str | None:
        return seen_active if seen_active and seen_active != active else seen_previous

    pruned = prune_knowledge_collections(context.settings, previous_of)
    if pruned is None:
        return {"skipped": "no knowledge base was imported into CHROMA_PERSIST_DIR"}
    return {"active": pruned.active, "previous": pruned.previous, "deleted": len(pruned.deleted)}


def _last_seen_collections() -> tuple[str | None, str | None]:
    """The active and previous collections that the latest successful housekeeping recorded."""
    with session_scope() as session:
        outcome = session.scalar(
            select(JobRun.outcome)
            .where(
                JobRun.job == HOUSEKEEPING,
                JobRun.status == JobRunStatus.SUCCEEDED,
                JobRun.outcome["knowledge"]["active"].isnot(None),
            )
            .order_by(JobRun.slot.desc())
            .limit(1)
        )
    knowledge = (outcome or {}).get("knowledge", {})
    return knowledge.get("active"), knowledge.get("previous")
