"""The webhook intake's use case: store what WAHA tells us, durably and once, then hand work to the queue.

Everything is committed before the caller answers WAHA. The tasks a message starts are recorded in the same
transaction (`TaskQueue.prepare`, an outbox row) and handed to the queue only after the commit (STYLE 2
and 4). A failed submit is logged, not raised: the message is safe in Postgres and `clinicbot sweep`
re-enqueues whatever stays unprocessed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from shared import rate_limit
from shared.alerts.models import AlertSeverity
from shared.alerts.service import raise_alert
from shared.config import Settings, get_settings
from shared.conversations import delivery
from shared.conversations.inbound import Recorded, record_clinic_phone_message, record_own_send
from shared.conversations.patient_messages import store_patient_message
from shared.db import session_scope
from shared.metrics import live
from shared.queue import Task, TaskQueue, get_task_queue
from shared.routing import MESSAGE_PROCESSOR
from shared.whatsapp.contacts import identify_contact, phone_of, push_name
from shared.whatsapp.sessions import react_to_session_status, record_session_status
from shared.whatsapp.webhooks import (
    AckEvent,
    EditedEvent,
    MessageEvent,
    ReactionEvent,
    RevokedEvent,
    SessionStatusEvent,
    is_patient_chat,
)

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str  # stored | duplicate | ignored | updated
    tasks: list[Task] = field(default_factory=list)  # recorded in the event's transaction, to submit after it


def handle_webhook(event: object, *, queue: TaskQueue | None = None, settings: Settings | None = None) -> Outcome:
    """Store one webhook event and enqueue the work it starts."""
    settings = settings or get_settings()
    queue = queue or get_task_queue()
    match event:
        case MessageEvent():
            outcome = receive_message(event, settings, queue)
        case AckEvent():
            outcome = _update(lambda s: delivery.apply_ack(s, event.payload.id, event.payload.ack))
        case RevokedEvent():
            revoked = event.payload.before.id if event.payload.before else event.payload.revoked_message_id
            outcome = _update(lambda s: bool(revoked) and delivery.mark_revoked(s, revoked))
        case EditedEvent():
            edited = event.payload.edited_message_id or event.payload.id
            outcome = _update(lambda s: delivery.apply_edit(s, edited, event.payload.body))
        case ReactionEvent():
            reaction = event.payload.reaction
            outcome = _update(lambda s: delivery.apply_reaction(s, reaction.message_id, reaction.text))
        case SessionStatusEvent():
            outcome = receive_session_status(event, queue)
        case _:
            outcome = Outcome("ignored")
    submit_tasks(outcome.tasks, queue)
    return outcome


def _update(change) -> Outcome:
    with session_scope() as session:
        changed = change(session)
    return Outcome("updated" if changed else "ignored")


def receive_message(event: MessageEvent, settings: Settings, queue: TaskQueue) -> Outcome:
    """Store a message of a one-to-one chat; a patient's new message gets its turn (or a reason not to)."""
    message = event.payload
    if message.participant or not is_patient_chat(message.chat):
        return Outcome("ignored")
    contact = identify_contact(message.chat, message.raw)
    if message.from_me:
        with session_scope() as session:
            recorded = _record_from_clinic(session, message, contact)
        return Outcome("stored" if recorded.is_new else "duplicate")
    stored = store_patient_message(message, contact, push_name(message.raw), settings)
    if stored is None:
        return Outcome("duplicate")
    live.publish(live.MESSAGE_RECEIVED, conversation_id=stored.conversation_id, message_id=stored.message_id)
    if stored.note == "rate_limited":
        _alert_flooding_chat(stored.conversation_id, settings)
    return Outcome("stored", stored.tasks)


def _record_from_clinic(session, message, contact) -> Recorded:
    if message.source == "app":
        return record_clinic_phone_message(session, message, contact)
    # WAHA before 2024 sent no `source`: an echo we cannot match to our own send was typed on the phone.
    recorded = record_own_send(session, message, contact, insert_unmatched=message.source == "api")
    return recorded if recorded is not None else record_clinic_phone_message(session, message, contact)


def _alert_flooding_chat(conversation_id, settings: Settings) -> None:
    conversation = str(conversation_id)
    if rate_limit.first_time("chat-flood-alert", conversation, ttl_seconds=600):
        with session_scope() as session:
            raise_alert(session, "chat_rate_limited", AlertSeverity.WARNING,
                        f"A chat sent more than {settings.chat_message_limit_per_minute} messages in a minute; "
                        "the bot stopped answering it", conversation_id=conversation)  # fmt: skip


def receive_session_status(event: SessionStatusEvent, queue: TaskQueue) -> Outcome:
    """Keep `waha_sessions` in step; a FAILED session gets an alert and a restart attempt."""
    name, status = event.payload.name, event.payload.status
    phone = phone_of(event.me.id) if event.me else None
    with session_scope() as session:
        previous = record_session_status(session, name, status, phone)
        if not react_to_session_status(session, name, status, previous):
            return Outcome("updated")
        attempt = event.id or str(event.timestamp or date.today().isoformat())
        payload = {"kind": "restart_session", "session": name}
        task = queue.prepare(session, "sessions", MESSAGE_PROCESSOR, payload, task_id=f"restart-{name}-{attempt}")
        return Outcome("updated", [task] if task is not None else [])


def submit_tasks(tasks: list[Task], queue: TaskQueue) -> int:
    """Hand recorded tasks to the queue after the commit; a failure is logged and left to the sweep."""
    submitted = 0
    for task in tasks:
        try:
            queue.submit(task)
            submitted += 1
        except Exception:
            log.exception("could not enqueue %s; the sweep will retry it", task.payload.get("kind"),
                          extra={"task_id": task.task_id})  # fmt: skip
    return submitted
