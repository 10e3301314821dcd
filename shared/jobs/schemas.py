"""What GET /api/v1/jobs answers: each job, its schedule in words, its last run and its next slot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.jobs.models import JobRunStatus


class JobRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slot: datetime = Field(description="the scheduled minute this run was for (UTC)")
    status: JobRunStatus
    attempts: int = Field(description="attempts at this slot; more than 1 after a failure or a killed worker")
    started_at: datetime = Field(description="of the latest attempt")
    finished_at: datetime | None
    duration_ms: int | None
    outcome: dict[str, Any] | None = Field(description="what the job decided: counts and reasons",
                                           examples=[{"unprocessed": {"conversations": 0, "messages": 0,
                                                                      "enqueued": 0}}])  # fmt: skip
    error: str | None = Field(description="the failed attempt's error, truncated")


class JobOut(BaseModel):
    name: str = Field(examples=["housekeeping"])
    description: str
    schedule: str = Field(description="in words, local times on the clinic's clock",
                          examples=["every 1 min", "daily 03:30 America/Sao_Paulo"])  # fmt: skip
    only_when_open: bool = Field(description="skipped when the clinic is closed at the slot")
    last_run: JobRunOut | None = Field(description="the run of its latest slot that started; null before the first")
    next_slot: datetime = Field(description="the next scheduled minute (UTC)")


class JobListOut(BaseModel):
    items: list[JobOut]
