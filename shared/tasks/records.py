"""Writes to our task records: by `enqueue` when a task is created, by the target on each attempt.

Every write is one statement (an upsert where the row may be missing), run in the caller's short
transaction. The records inform; they do not lock: a task may run twice and its handler re-checks state.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.tasks.models import FailedTask, TaskRecord, TaskStatus

if TYPE_CHECKING:
    from shared.queue import Task

MAX_ERROR_LENGTH = 4000


@dataclass(frozen=True)
class Delivery:
    """One attempt at a task, as its target sees it."""

    task_id: str
    queue: str
    target: str
    payload: dict[str, Any]
    attempt: int  # 1 for the first


# Built once: every enqueue runs it, and building a statement costs more than running it.
_INSERT_RECORD = (
    insert(TaskRecord.__table__)
    .values({name: bindparam(name) for name in ("id", "task_id", "queue", "target", "payload", "status", "attempts")})
    .on_conflict_do_nothing(index_elements=["task_id"])
    .returning(TaskRecord.id)
)


def record_enqueued(session: Session, task: Task) -> TaskStatus | None:
    """Insert the task's record; None when it is new, else the status of the record already there."""
    row = {"id": uuid.uuid4(), "task_id": task.task_id, "queue": task.queue, "target": task.target,
           "payload": task.payload, "status": TaskStatus.PENDING, "attempts": 0}  # fmt: skip
    inserted = session.scalar(_INSERT_RECORD, row)
    if inserted is not None:
        return None
    return session.scalar(select(TaskRecord.status).where(TaskRecord.task_id == task.task_id))


def _upsert_record(session: Session, delivery: Delivery, status: TaskStatus, **changes: Any) -> None:
    # An upsert: a task created outside `enqueue` (or whose record was purged) still gets a record.
    values = {"status": status, "attempts": delivery.attempt, **changes}
    session.execute(
        insert(TaskRecord)
        .values(**_identity(delivery), payload=delivery.payload, **values)
        .on_conflict_do_update(index_elements=[TaskRecord.task_id], set_={**values, "updated_at": func.now()})
    )


def _identity(delivery: Delivery) -> dict[str, str]:
    return {"task_id": delivery.task_id, "queue": delivery.queue, "target": delivery.target}


def start_attempt(session: Session, delivery: Delivery) -> None:
    """Mark the task PROCESSING with this attempt's number."""
    _upsert_record(session, delivery, TaskStatus.PROCESSING)


def complete_attempt(session: Session, delivery: Delivery) -> None:
    """Mark the task COMPLETED."""
    _upsert_record(session, delivery, TaskStatus.COMPLETED, completed_at=func.now())


def fail_attempt(session: Session, delivery: Delivery, error: str, *, final: bool) -> None:
    """Note a failed attempt: back to PENDING for the queue's next try, or FAILED and into failed_tasks."""
    error = error[:MAX_ERROR_LENGTH]
    _upsert_record(session, delivery, TaskStatus.FAILED if final else TaskStatus.PENDING, last_error=error)
    if final:
        values = {"attempts": delivery.attempt, "last_error": error, "payload": delivery.payload}
        session.execute(
            insert(FailedTask)
            .values(**_identity(delivery), **values)
            .on_conflict_do_update(index_elements=[FailedTask.task_id], set_={**values, "failed_at": func.now()})
        )
