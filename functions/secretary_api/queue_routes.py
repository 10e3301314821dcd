"""/api/v1/queue: counts of the task queue and the failed tasks an admin may retry or clear (ADMIN by default)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal, current_principal, require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.tasks import service
from shared.users.permissions import Permission

MAX_FAILED_LISTED = 100
AUDIT_ENTITY = "failed_task"

api = APIBlueprint(
    "queue", __name__, url_prefix=f"{API_PREFIX}/queue", abp_tags=[Tag(name="queue")], abp_security=SECURED
)


class QueueStatsOut(BaseModel):
    pending: int = Field(description="created, or waiting for the next attempt", examples=[5])
    processing: int = Field(description="an attempt is running", examples=[2])
    failed: int = Field(description="gave up: waiting for an admin to retry or clear them", examples=[1])
    completed: int = Field(description="done (records are purged after a while)", examples=[120])


class FailedTaskQuery(BaseModel):
    limit: int = Field(default=MAX_FAILED_LISTED, ge=1, le=MAX_FAILED_LISTED, description="newest first, max 100")


class FailedTaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="the job id to retry")
    task_id: str
    queue: str = Field(examples=["messages"])
    target: str = Field(examples=["message_processor"])
    attempts: int
    last_error: str | None
    failed_at: datetime
    payload: dict[str, Any]


class FailedTaskListOut(BaseModel):
    items: list[FailedTaskOut]
    total: int = Field(description="every failed task, including those past `limit`")
    limit: int


class RetryFailedIn(BaseModel):
    job_ids: list[uuid.UUID] = Field(min_length=1, max_length=100, description="ids from GET /queue/failed",
                                     examples=[["0b7e4d1f-2a33-4c2e-9a57-6f1c2b1e8d4a"]])  # fmt: skip


class RetriedOut(BaseModel):
    job_id: uuid.UUID
    task_id: str = Field(description="the new task, `<old id>-retry-<hex>`", examples=["msg-3eb0-retry-1a2b3c4d"])


class RetryFailedOut(BaseModel):
    retried: list[RetriedOut]
    not_found: list[uuid.UUID] = Field(description="ids that are not failed tasks (already retried or cleared)")


class ClearedOut(BaseModel):
    cleared: int = Field(examples=[3])


@api.get("/stats", responses={200: QueueStatsOut, **error_responses(401, 403)})
@require_permission(Permission.MANAGE_QUEUE)
def get_queue_stats():
    """Tasks by state."""
    with session_scope() as session:
        return QueueStatsOut(**service.queue_stats(session)).model_dump()


@api.get("/failed", responses={200: FailedTaskListOut, **error_responses(401, 403, 422)})
@require_permission(Permission.MANAGE_QUEUE)
def list_failed_tasks(query: FailedTaskQuery):
    """The failed tasks, newest first, at most `limit` (100) of them; `total` counts them all."""
    with session_scope() as session:
        rows = service.list_failed(session, limit=query.limit)
        total = service.queue_stats(session)["failed"]
        items = [FailedTaskOut.model_validate(row) for row in rows]
    return FailedTaskListOut(items=items, total=total, limit=query.limit).model_dump(mode="json")


@api.post("/retry-failed", responses={200: RetryFailedOut, **error_responses(400, 401, 403, 422)})
@require_permission(Permission.MANAGE_QUEUE)
def retry_failed_tasks(body: RetryFailedIn):
    """Enqueue the given failed tasks again under new task ids (audited); unknown ids are listed, not an error."""
    with session_scope() as session:
        retried = service.retry_failed(session, body.job_ids)
        _audit_retries(session, current_principal(), retried)
    done = {task.job_id for task in retried}
    not_found = list(dict.fromkeys(job_id for job_id in body.job_ids if job_id not in done))
    out = RetryFailedOut(retried=[RetriedOut(job_id=t.job_id, task_id=t.task_id) for t in retried], not_found=not_found)
    return out.model_dump(mode="json")


@api.delete("/clear-failed", responses={200: ClearedOut, **error_responses(401, 403)})
@require_permission(Permission.MANAGE_QUEUE)
def clear_failed_tasks():
    """Forget every failed task (audited); tasks pending or running are untouched."""
    with session_scope() as session:
        n = service.clear_failed(session)
        # One entry for the lot: the rows are gone, and the count is what an admin looks back for.
        record_audit(session, current_principal(), "queue.failed.clear", AUDIT_ENTITY, "all", after={"cleared": n})
    return ClearedOut(cleared=n).model_dump()


def _audit_retries(session: Session, actor: Principal, retried: list[service.RetriedTask]) -> None:
    # shared/tasks/service.py knows nothing of actors, so the audit is written here, in the same transaction.
    for task in retried:
        record_audit(session, actor, "queue.failed.retry", AUDIT_ENTITY, task.job_id, after={"task_id": task.task_id})
