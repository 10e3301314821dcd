"""Use cases around the jobs: what the API lists, and what `clinicbot tick` runs now."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from shared.clinic.service import get_clinic_settings
from shared.db import utcnow
from shared.jobs.models import JobRun
from shared.jobs.registry import Job, JobRegistry
from shared.jobs.runs import RunResult, run_job
from shared.jobs.schedules import floor_minute
from shared.jobs.schemas import JobOut, JobRunOut
from shared.jobs.tick import pending_slots
from shared.queue import TaskQueue


def list_jobs(session: Session, registry: JobRegistry, now: datetime | None = None) -> list[JobOut]:
    """Every job with its schedule, the run of its latest started slot and its next slot."""
    now = now or utcnow()
    zone = ZoneInfo(get_clinic_settings(session).timezone)
    latest = {
        run.job: run
        for run in session.scalars(
            select(JobRun).where(JobRun.job.in_(registry.names)).order_by(JobRun.job, JobRun.slot.desc())
            .ext(distinct_on(JobRun.job))
        )
    }  # fmt: skip
    return [_job_out(job, latest.get(job.name), zone, now) for job in registry]


def _job_out(job: Job, run: JobRun | None, zone: ZoneInfo, now: datetime) -> JobOut:
    return JobOut(
        name=job.name,
        description=job.description,
        schedule=job.schedule.describe(zone),
        only_when_open=job.only_when_open,
        last_run=JobRunOut.model_validate(run) if run else None,
        next_slot=job.schedule.next_slot(now, zone),
    )


def run_due_jobs(registry: JobRegistry, queue: TaskQueue, now: datetime | None = None) -> list[RunResult]:
    """Run here and now, one after the other, every job whose latest slot has not run yet."""
    pending, _ = pending_slots(registry, now or utcnow())
    return [run_job(due.job, due.slot, queue=queue) for due in pending]


def run_job_now(job: Job, queue: TaskQueue, now: datetime | None = None) -> RunResult:
    """Run one job here and now, for the current minute, whether or not it is due."""
    return run_job(job, floor_minute(now or utcnow()), queue=queue)
