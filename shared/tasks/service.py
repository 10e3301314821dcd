"""Use cases of the task queue for administrators: counts, the failed tasks, retrying or clearing them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared.queue import TaskQueue, get_task_queue, retry_task_id
from shared.tasks.models import FailedTask, TaskRecord, TaskStatus


@dataclass(frozen=True)
class RetriedTask:
    job_id: uuid.UUID  # the failed_tasks row it came from
    task_id: str  # the new task


def queue_stats(session: Session) -> dict[str, int]:
    """Tasks by state; `failed` counts failed_tasks, the ones still waiting for an admin's decision."""
    counts = dict(
        session.execute(
            select(TaskRecord.status, func.count())
            .where(TaskRecord.status != TaskStatus.FAILED)
            .group_by(TaskRecord.status)
        ).all()
    )
    failed = session.scalar(select(func.count()).select_from(FailedTask))
    return {
        "pending": counts.get(TaskStatus.PENDING, 0),
        "processing": counts.get(TaskStatus.PROCESSING, 0),
        "failed": failed or 0,
        "completed": counts.get(TaskStatus.COMPLETED, 0),
    }


def list_failed(session: Session, limit: int = 100) -> list[FailedTask]:
    """The most recent failed tasks first."""
    return list(session.scalars(select(FailedTask).order_by(FailedTask.failed_at.desc()).limit(limit)))


def retry_failed(session: Session, job_ids: list[uuid.UUID], queue: TaskQueue | None = None) -> list[RetriedTask]:
    """Enqueue the given failed tasks again under fresh task ids and remove them from failed_tasks.

    Unknown ids are skipped. Each is enqueued before its row is deleted: if the caller's transaction then
    fails, the row stays and a later retry may run the task twice, which handlers tolerate.
    """
    queue = queue or get_task_queue()
    rows = session.scalars(select(FailedTask).where(FailedTask.id.in_(job_ids)).order_by(FailedTask.failed_at))
    retried = []
    for row in rows:
        task_id = retry_task_id(row.task_id)
        queue.enqueue(row.queue, row.target, row.payload, task_id=task_id)
        session.delete(row)
        retried.append(RetriedTask(row.id, task_id))
    session.flush()
    return retried


def clear_failed(session: Session) -> int:
    """Forget every failed task; returns how many there were."""
    return session.execute(delete(FailedTask)).rowcount


def purge_completed(session: Session, before: datetime) -> int:
    """Delete the records of tasks completed before `before` (the table grows with every message)."""
    statement = delete(TaskRecord).where(TaskRecord.status == TaskStatus.COMPLETED, TaskRecord.completed_at < before)
    return session.execute(statement).rowcount
