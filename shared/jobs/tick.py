"""The tick: which jobs are due at a slot, and one task per (job, slot) for the queue. It runs no job itself.

Cloud Scheduler calls it every minute (the local stack's cron likewise). Each task is named after its job and slot,
`job-<name>-<YYYYmmddHHMM>`, so two ticks for the same minute, a retried tick or two ticks at once create it once
(the queue and our task records refuse a second task of that name); the claim in `runs.py` covers the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_

from shared.clinic.service import get_clinic_settings
from shared.db import session_scope
from shared.jobs.models import FINISHED, JobRun
from shared.jobs.registry import DueSlot, JobRegistry
from shared.jobs.schedules import floor_minute
from shared.queue import TaskQueue
from shared.routing import SCHEDULER_TICK

JOBS_QUEUE = "jobs"
log = logging.getLogger("clinicbot.jobs")


@dataclass(frozen=True)
class TickResult:
    slot: datetime
    enqueued: list[str] = field(default_factory=list)  # task ids created by this tick
    existing: list[str] = field(default_factory=list)  # due, but their task exists already (another tick's)
    finished: list[str] = field(default_factory=list)  # due, but that slot ran already


def job_task_id(name: str, slot: datetime) -> str:
    return f"job-{name}-{slot:%Y%m%d%H%M}"


def job_payload(name: str, slot: datetime) -> dict[str, str]:
    return {"job": name, "slot": slot.isoformat()}


def clinic_zone() -> ZoneInfo:
    """The clinic's time zone, from its settings (CLINIC_TIMEZONE until an ADMIN changes it)."""
    with session_scope() as session:
        return ZoneInfo(get_clinic_settings(session).timezone)


def pending_slots(registry: JobRegistry, now: datetime, zone: ZoneInfo | None = None) -> tuple[list[DueSlot], ...]:
    """The due slots that never finished, and those that did."""
    due = registry.due_slots(floor_minute(now), zone or clinic_zone())
    pairs = [(d.job.name, d.slot) for d in due]
    with session_scope() as session:
        rows = session.execute(
            select(JobRun.job, JobRun.slot).where(
                tuple_(JobRun.job, JobRun.slot).in_(pairs), JobRun.status.in_(FINISHED)
            )
        )
        done = {(row.job, row.slot) for row in rows}
    return [d for d in due if (d.job.name, d.slot) not in done], [d for d in due if (d.job.name, d.slot) in done]


def tick(slot: datetime, *, registry: JobRegistry, queue: TaskQueue) -> TickResult:
    """Enqueue one task for each job due at `slot` whose slot has not run yet."""
    slot = floor_minute(slot)
    pending, finished = pending_slots(registry, slot)
    result = TickResult(slot, finished=[job_task_id(d.job.name, d.slot) for d in finished])
    for due in pending:
        task_id = job_task_id(due.job.name, due.slot)
        created = queue.enqueue(JOBS_QUEUE, SCHEDULER_TICK, job_payload(due.job.name, due.slot), task_id=task_id)
        (result.enqueued if created else result.existing).append(task_id)
    log.info("tick %s: %d enqueued, %d existing, %d finished", f"{slot:%Y-%m-%d %H:%M}", len(result.enqueued),
             len(result.existing), len(result.finished))  # fmt: skip
    return result
