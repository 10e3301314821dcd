"""Nothing is lost when the queue is down: the message is stored, and the sweep enqueues its turn later."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from shared.conversations.models import ConversationMessage
from shared.conversations.sweep import sweep_unprocessed
from shared.db import session_scope
from shared.queue import get_task_queue
from shared.tasks.in_process import InProcessQueue
from shared.tasks.models import TaskRecord
from shared.whatsapp.intake import handle_webhook
from shared.whatsapp.webhooks import parse_webhook


class UnreachableQueue(InProcessQueue):
    """Our real queue, with its backend down: recording works, creating the task raises (as the Cloud Tasks
    client does when the service is unreachable)."""

    def __init__(self) -> None:
        super().__init__(inline=True)
        self.attempts = 0

    def create_task(self, task) -> bool:
        self.attempts += 1
        raise ConnectionError("task queue unreachable")


def webhook(message_id: str) -> bytes:
    payload = {"id": message_id, "timestamp": int(time.time()), "from": "5511988887777@c.us", "body": "oi"}
    return json.dumps({"event": "message", "session": "default", "payload": payload}).encode()


def test_a_message_whose_task_could_not_be_enqueued_is_stored_and_swept_later(backends, waha_emulator, settings_env):
    settings_env(WAHA_URL=waha_emulator.url, WAHA_API_KEY="test-waha-key")
    down = UnreachableQueue()
    outcome = handle_webhook(parse_webhook(webhook("false_5511988887777@c.us_AAA1")), queue=down)
    assert outcome.status == "stored" and down.attempts == 1

    assert sweep_unprocessed(older_than_seconds=3600).enqueued == 0  # too recent to sweep
    swept = sweep_unprocessed(older_than_seconds=0)
    assert (swept.conversations, swept.messages, swept.enqueued) == (1, 1, 1)
    assert get_task_queue().join(timeout=30)
    with session_scope() as session:
        message = session.scalars(select(ConversationMessage).where(ConversationMessage.direction == "INBOUND")).one()
        assert message.processed_at is not None and message.processing_note == "replied"
        records = session.scalars(select(TaskRecord)).all()
    # The intake's task was recorded (outbox) but never created; the sweep's turn is the one that ran.
    assert sorted((record.task_id.split("-")[0], record.status.value) for record in records) == [
        ("sweep", "COMPLETED"),
        ("turn", "PENDING"),
    ]
    assert sweep_unprocessed(older_than_seconds=0).messages == 0
