"""Running one job for one slot, exactly once however many workers try: the claim, the run and its record.

1. `INSERT ... ON CONFLICT DO NOTHING` the (job, slot) row, committed. The runner whose insert lands holds
   attempt 1; a later runner bumps `attempts` on a RUNNING or FAILED row it can lock without waiting
   (`FOR UPDATE SKIP LOCKED`), committed, so an attempt killed half-way is still counted.
2. In a second transaction, held for the whole run, it locks the row again (`SKIP LOCKED`) and runs the handler
   only if the row still carries its own attempt number. A row locked by another runner is BUSY (the queue retries
   later); a SUCCEEDED or SKIPPED row is DONE. A worker killed mid-job loses its connection, Postgres drops its
   lock, and the next attempt takes the RUNNING row over.
3. The same transaction records the end (status, duration, outcome or error) and commits, releasing the lock.
The handler does its work in its own transactions: the held one is a lock, not the job's unit of work.
"""

from __future__ import annotations

import enum
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.clinic.service import get_calendar
from shared.config import Settings, get_settings
from shared.db import session_scope
from shared.jobs.models import FINISHED, MAX_ERROR_LENGTH, JobRun, JobRunStatus
from shared.jobs.registry import Job, JobContext, SkipRun
from shared.queue import TaskQueue, get_task_queue

log = logging.getLogger("clinicbot.jobs")
_runs = JobRun.__table__
RUNNABLE = (JobRunStatus.RUNNING, JobRunStatus.FAILED)  # a slot another attempt may take (when nobody holds it)


class Claim(enum.StrEnum):
    RAN = "ran"  # this call ran the handler (status says how it ended)
    DONE = "done"  # the slot had run already: nothing ran
    BUSY = "busy"  # another runner holds the slot now: nothing ran


@dataclass(frozen=True)
class RunResult:
    job: str
    slot: datetime
    claim: Claim
    status: JobRunStatus | None  # of the row after this call
    attempts: int = 0
    duration_ms: int | None = None
    outcome: dict[str, Any] | None = None
    error: str | None = None


def run_job(job: Job, slot: datetime, *, queue: TaskQueue | None = None, settings: Settings | None = None) -> RunResult:
    """Claim (job, slot), run its handler if nobody ran it, record how it ended."""
    attempt = _first_attempt(job.name, slot) or _next_attempt(job.name, slot)
    if attempt is None:
        return _unclaimed(job.name, slot)
    with session_scope() as session:
        row = session.scalars(
            select(JobRun).where(JobRun.job == job.name, JobRun.slot == slot).with_for_update(skip_locked=True)
        ).one_or_none()
        if row is None or row.status in FINISHED or row.attempts != attempt:
            return _unclaimed(job.name, slot)  # overtaken between the two transactions
        context = JobContext(job.name, slot, attempt, queue or get_task_queue(), settings or get_settings())
        return _run_claimed(session, row, job, context)


def _first_attempt(name: str, slot: datetime) -> int | None:
    statement = (
        insert(JobRun)
        .values(id=uuid.uuid4(), job=name, slot=slot, status=JobRunStatus.RUNNING, attempts=1, started_at=func.now())
        .on_conflict_do_nothing(index_elements=["job", "slot"])
        .returning(JobRun.attempts)
    )
    with session_scope() as session:
        return session.scalar(statement)


def _next_attempt(name: str, slot: datetime) -> int | None:
    # Only a row nobody holds: a live runner's lock makes this skip it instead of waiting for the whole run.
    claimable = (
        select(_runs.c.id)
        .where(_runs.c.job == name, _runs.c.slot == slot, _runs.c.status.in_(RUNNABLE))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(_runs)
        .where(_runs.c.id == claimable)
        .values(attempts=_runs.c.attempts + 1, status=JobRunStatus.RUNNING, started_at=func.now())
        .values(finished_at=None, duration_ms=None, outcome=None, error=None)
        .returning(_runs.c.attempts)
    )
    with session_scope() as session:
        return session.scalar(statement)


def _unclaimed(name: str, slot: datetime) -> RunResult:
    with session_scope() as session:
        row = session.execute(select(_runs.c.status, _runs.c.attempts, _runs.c.duration_ms, _runs.c.outcome)
                              .where(_runs.c.job == name, _runs.c.slot == slot)).one()  # fmt: skip
    claim = Claim.DONE if row.status in FINISHED else Claim.BUSY
    return RunResult(name, slot, claim, row.status, row.attempts, row.duration_ms, row.outcome)


def _run_claimed(session: Session, row: JobRun, job: Job, context: JobContext) -> RunResult:
    started = time.monotonic()
    outcome, error, status = None, None, JobRunStatus.SUCCEEDED
    try:
        if job.only_when_open and not _clinic_open(context.slot):
            raise SkipRun("the clinic is closed at this slot")
        outcome = _checked_outcome(job.handler(context))
    except SkipRun as skip:
        status, outcome = JobRunStatus.SKIPPED, {"skipped": str(skip) or "nothing to do"}
    except Exception as exc:
        log.exception("job failed", extra={"job": job.name, "slot": context.slot.isoformat()})
        status, error = JobRunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
    row.status, row.outcome, row.error = status, outcome, error
    row.duration_ms = round((time.monotonic() - started) * 1000)
    row.finished_at = func.clock_timestamp()  # now() is when this transaction, the lock, began
    session.flush()
    log.info("job %s", status.value.lower(), extra={"job": job.name, "attempt": row.attempts})
    return RunResult(job.name, context.slot, Claim.RAN, status, row.attempts, row.duration_ms, outcome, error)


def _clinic_open(slot: datetime) -> bool:
    with session_scope() as session:
        return get_calendar(session).is_open(slot)


def _checked_outcome(outcome: dict[str, Any] | None) -> dict[str, Any]:
    if outcome is None:
        return {}
    if not isinstance(outcome, dict):
        raise TypeError(f"a job's outcome is a dict, not {type(outcome).__name__}")
    return json.loads(json.dumps(outcome, allow_nan=False))  # what JSONB will hold, or a failure now
