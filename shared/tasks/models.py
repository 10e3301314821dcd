"""Our own record of every task (the queues keep theirs only for a while) and the tasks that gave up."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt, UpdatedAt, UUIDPk, pg_enum


class TaskStatus(enum.StrEnum):
    PENDING = "PENDING"  # created, or waiting for its next attempt
    PROCESSING = "PROCESSING"  # an attempt is running (or died without telling us)
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"  # out of attempts, or can never succeed: see failed_tasks


class TaskRecord(Base):
    __tablename__ = "task_records"

    id: Mapped[UUIDPk]
    task_id: Mapped[str] = mapped_column(String(500), unique=True)
    queue: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[TaskStatus] = mapped_column(pg_enum(TaskStatus, "task_status"), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]
    completed_at: Mapped[datetime | None]


class FailedTask(Base):
    """A task that exhausted its attempts or was discarded; kept until an admin retries or clears it."""

    __tablename__ = "failed_tasks"

    id: Mapped[UUIDPk]
    task_id: Mapped[str] = mapped_column(String(500), unique=True)
    queue: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    attempts: Mapped[int]
    last_error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[CreatedAt] = mapped_column(index=True)
