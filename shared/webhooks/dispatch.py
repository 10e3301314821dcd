"""Emitting an event: one delivery per subscribed endpoint, written in the caller's transaction.

Each delivery's first attempt is a task recorded with it (`TaskQueue.prepare`, an outbox row) and handed to
the queue only once that transaction commits (STYLE rule 4): callers emit with one line and need not know.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.config import get_settings
from shared.db import utcnow
from shared.queue import TaskQueue, get_task_queue
from shared.routing import MESSAGE_PROCESSOR
from shared.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)
TASK_KIND = "webhook_delivery"
QUEUE = "webhooks"  # its own queue: a slow receiver never delays a patient's reply
_PENDING_TASKS = "webhook_tasks"  # key in session.info


def envelope(event_id: uuid.UUID, event: str, data: dict[str, Any]) -> dict[str, Any]:
    """The JSON body every endpoint receives for an event."""
    return {"id": str(event_id), "event": event, "created_at": utcnow().isoformat(), "data": data}


def subscribers(session: Session, event: str) -> list[uuid.UUID]:
    """The active endpoints subscribed to `event`."""
    return list(
        session.scalars(
            select(WebhookEndpoint.id).where(WebhookEndpoint.is_active, WebhookEndpoint.events.any_() == event)
        )
    )


def emit_event(
    session: Session, event: str, data: dict[str, Any], *, event_id: uuid.UUID | None = None,
    queue: TaskQueue | None = None,
) -> int:  # fmt: skip
    """Record a delivery of `event` for each active endpoint subscribed to it; the number recorded.

    The same `event_id` emitted twice is delivered once (a task that runs again emits again)."""
    endpoints = subscribers(session, event)
    if not endpoints:
        return 0
    event_id = event_id or uuid.uuid4()
    payload = envelope(event_id, event, data)
    delivered = [
        record_delivery(session, endpoint_id, event, event_id, payload, queue=queue) for endpoint_id in endpoints
    ]
    return sum(1 for delivery_id in delivered if delivery_id is not None)


def record_delivery(
    session: Session, endpoint_id: uuid.UUID, event: str, event_id: uuid.UUID, payload: dict[str, Any],
    *, queue: TaskQueue | None = None,
) -> uuid.UUID | None:  # fmt: skip
    """Record one delivery and its first attempt's task; None when this endpoint already has this event."""
    delivery_id = session.scalar(
        insert(WebhookDelivery)
        .values(id=uuid.uuid4(), endpoint_id=endpoint_id, event=event, event_id=event_id, payload=payload,
                status=DeliveryStatus.PENDING, next_attempt_at=utcnow(),
                attempt_limit=get_settings().webhook_delivery_max_attempts)
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        .returning(WebhookDelivery.id)
    )  # fmt: skip
    if delivery_id is not None:
        schedule_attempt(session, delivery_id, 1, queue=queue)
    return delivery_id


def schedule_attempt(
    session: Session, delivery_id: uuid.UUID, attempt: int, *, delay: float | None = None,
    queue: TaskQueue | None = None,
) -> None:  # fmt: skip
    """Record the task of one attempt in `session`'s transaction; it reaches the queue after the commit."""
    queue = queue or get_task_queue()
    payload = {"kind": TASK_KIND, "delivery_id": str(delivery_id), "attempt": attempt}
    # Not de-duplicated by name: the locked delivery row decides what runs, and a redelivery may schedule a number
    # whose earlier task ended without an attempt (its endpoint was inactive then).
    task_id = f"webhook-{delivery_id}-{attempt}-{uuid.uuid4().hex[:8]}"
    task = queue.prepare(session, QUEUE, MESSAGE_PROCESSOR, payload, task_id=task_id, delay=delay)
    if task is None:
        return
    if _PENDING_TASKS not in session.info:
        session.info[_PENDING_TASKS] = []
        orm_event.listen(session, "after_commit", _submit_pending)
        orm_event.listen(session, "after_rollback", _forget_pending)
    session.info[_PENDING_TASKS].append((queue, task))


def _submit_pending(session: Session) -> None:
    # A failed submit leaves the delivery PENDING past its due time; an ADMIN can redeliver it once it is overdue.
    for queue, task in session.info.pop(_PENDING_TASKS, []):
        try:
            queue.submit(task)
        except Exception:
            log.exception("webhook delivery not enqueued", extra={"task_id": task.task_id})
    session.info[_PENDING_TASKS] = []


def _forget_pending(session: Session) -> None:
    session.info[_PENDING_TASKS] = []
