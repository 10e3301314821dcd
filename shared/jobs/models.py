"""One row per (job, slot): what ran, when, how long, how it ended. The unique pair is what makes a slot run once."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, UUIDPk, pg_enum

JOB_NAME_MAX = 64
MAX_ERROR_LENGTH = 2000


class JobRunStatus(enum.StrEnum):
    RUNNING = "RUNNING"  # claimed; an attempt runs (or its worker died: the next attempt takes over)
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # the last attempt raised; the queue retries it, then the sweep
    SKIPPED = "SKIPPED"  # the job decided there was nothing to do for this slot (the clinic closed, ...)


FINISHED = (JobRunStatus.SUCCEEDED, JobRunStatus.SKIPPED)  # a slot in one of these never runs again


class JobRun(Base):
    __tablename__ = "job_runs"

    id: Mapped[UUIDPk]
    job: Mapped[str] = mapped_column(String(JOB_NAME_MAX))
    slot: Mapped[datetime]  # the scheduled minute, in UTC
    status: Mapped[JobRunStatus] = mapped_column(pg_enum(JobRunStatus, "job_run_status"))
    # Also the fencing token: a runner whose attempt number was overtaken steps back.
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime]  # of the latest attempt
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    # What the job decided, in counts and reasons: never a patient's words or number.
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("job", "slot"),)
