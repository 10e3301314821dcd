"""The job registry: each job's name, schedule, handler and description, and which of them a tick finds due.

Adding a job is one registration in `shared/jobs/catalogue.py`:

    Job("anomaly_alerts", Daily("07:00"), send_anomaly_alerts, "Notify the ADMINs of yesterday's anomalies")

A handler takes a `JobContext` and returns its outcome, a JSON object of what it decided (counts and reasons,
never a patient's words or number); it raises `SkipRun` when there is nothing to do for the slot. It must be safe
to run twice and at once: the claim makes a slot run once, but a worker killed half-way runs it again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from shared.jobs.models import JOB_NAME_MAX
from shared.jobs.schedules import Schedule

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.queue import TaskQueue

_NAME = re.compile(rf"[a-z][a-z0-9_]{{0,{JOB_NAME_MAX - 1}}}")


class SkipRun(Exception):
    """Raise from a handler when the slot needs nothing done; the run is recorded SKIPPED with this reason."""


@dataclass(frozen=True)
class JobContext:
    job: str
    slot: datetime  # the scheduled minute (UTC) this run is for
    attempt: int  # 1 for the first
    queue: TaskQueue  # where the job's own tasks go
    settings: Settings


JobHandler = Callable[[JobContext], dict[str, Any]]


@dataclass(frozen=True)
class Job:
    name: str
    schedule: Schedule
    handler: JobHandler
    description: str
    only_when_open: bool = False  # SKIPPED when the clinic's calendar is closed at the slot

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"invalid job name {self.name!r}: lowercase letters, digits and '_'")


@dataclass(frozen=True)
class DueSlot:
    job: Job
    slot: datetime


class JobRegistry:
    def __init__(self, jobs: Iterable[Job] = ()) -> None:
        self._jobs: dict[str, Job] = {}
        for job in jobs:
            self.add(job)

    def add(self, job: Job) -> Job:
        if job.name in self._jobs:
            raise ValueError(f"a job named {job.name!r} is registered already")
        self._jobs[job.name] = job
        return job

    def get(self, name: str) -> Job | None:
        return self._jobs.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._jobs)

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)

    def due_slots(self, now: datetime, zone: ZoneInfo) -> list[DueSlot]:
        """Each job's latest slot at or before `now`: the one slot a tick at `now` may start.

        Only the latest: after ticks were missed, a job catches up its last missed slot once, not every one.
        Whether that slot already ran is the tick's question (job_runs), not the schedule's.
        """
        return [DueSlot(job, job.schedule.latest_slot(now, zone)) for job in self]
