"""The safety net behind the queue: re-enqueue turns for inbound messages that nobody processed.

A task can be lost before it exists (the queue was down when the intake enqueued) or run out of attempts
(Redis down for longer than its retries). The message itself is in Postgres, so `clinicbot sweep` (and the
scheduler, later) finds every inbound message still unprocessed after SWEEP_AFTER_SECONDS and enqueues one
turn per conversation. The task id carries the sweep's time window: a second sweep in the same window adds
nothing, a later one tries again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import func, select

from shared.config import get_settings
from shared.conversations.models import ConversationMessage, MessageDirection
from shared.db import session_scope
from shared.queue import TaskQueue, get_task_queue
from shared.routing import MESSAGE_PROCESSOR

_messages = ConversationMessage.__table__
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    conversations: int
    messages: int
    enqueued: int


def sweep_unprocessed(older_than_seconds: int | None = None, *, queue: TaskQueue | None = None) -> SweepResult:
    """Enqueue a turn for each conversation holding inbound messages unprocessed for too long."""
    age = older_than_seconds if older_than_seconds is not None else get_settings().sweep_after_seconds
    with session_scope() as session:
        rows = session.execute(
            select(_messages.c.conversation_id, func.count())
            .where(
                _messages.c.direction == MessageDirection.INBOUND,
                _messages.c.processed_at.is_(None),
                _messages.c.created_at <= func.now() - func.make_interval(0, 0, 0, 0, 0, 0, age),
            )
            .group_by(_messages.c.conversation_id)
        ).all()
    window = int(time.time() // max(age, 1))
    queue = queue or get_task_queue()
    enqueued = 0
    for conversation_id, _count in rows:
        payload = {"kind": "process_message", "conversation_id": str(conversation_id)}
        if queue.enqueue("messages", MESSAGE_PROCESSOR, payload, task_id=f"sweep-{conversation_id}-{window}"):
            enqueued += 1
    result = SweepResult(len(rows), sum(row[1] for row in rows), enqueued)
    log.info("sweep: %d conversation(s), %d message(s), %d turn(s) enqueued", *vars(result).values())
    return result
