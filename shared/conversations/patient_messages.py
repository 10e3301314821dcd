"""Storing a patient's message: the intake's hot path, in one SQL statement and one round trip.

One statement, run outside an explicit transaction, is atomic in Postgres. It is the body of the function
store_patient_message() (migration 0004; change it there, with a new migration); its data-modifying CTEs
  1. get or create the conversation with the contact (moving its last-message time forward),
  2. decide whether the message may start a bot turn: not in maintenance, and the chat sent fewer than
     CHAT_MESSAGE_LIMIT_PER_MINUTE inbound messages in the last minute (card 044; the excess is stored,
     marked processed with the reason, and starts nothing),
  3. insert the message, unless its WAHA id is already stored (a repeated delivery: then nothing below runs),
  4. record its tasks (the outbox rows: the turn, or the day's maintenance notice, and the media download).
It is committed when it returns, before the webhook is answered. Five round trips became one, which is most
of what the intake costs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text

from shared.config import Settings
from shared.conversations.inbound import message_kind, sent_at
from shared.db import get_engine, utcnow
from shared.queue import Task, task_id_for
from shared.routing import MESSAGE_PROCESSOR
from shared.whatsapp.contacts import Contact
from shared.whatsapp.webhooks import Message

# The statement lives in Postgres, as the function store_patient_message() (migration 0004), so that its plan
# is cached per connection instead of made again for every message. Named arguments: a parameter added or
# renamed on one side only fails loudly instead of shifting the others.
_STORE = text("""
SELECT * FROM store_patient_message(
    p_conversation_id => :conversation_id, p_chat_id => :chat_id, p_phone_number => :phone_number,
    p_name => :name, p_at => :at, p_maintenance => :maintenance, p_chat_limit => :chat_limit,
    p_message_id => :message_id, p_kind => :kind, p_from_phone => :from_phone, p_to_phone => :to_phone,
    p_body => :body, p_media_url => :media_url, p_media_mimetype => :media_mimetype,
    p_media_filename => :media_filename, p_latitude => :latitude, p_longitude => :longitude,
    p_location_name => :location_name, p_location_address => :location_address,
    p_waha_message_id => :waha_message_id, p_message_timestamp => :message_timestamp,
    p_turn_record_id => :turn_record_id, p_day => :day, p_turn_task_id => :turn_task_id, p_target => :target,
    p_media_record_id => :media_record_id, p_media_task_id => :media_task_id, p_fetch_media => :fetch_media)
""")


@dataclass(frozen=True)
class StoredMessage:
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    note: str | None  # why no turn starts: "maintenance", "rate_limited"; None: a turn is recorded
    tasks: list[Task]  # recorded with the message; submit them to the queue


def store_patient_message(
    message: Message, contact: Contact, name: str | None, settings: Settings
) -> StoredMessage | None:
    """Store a patient's message with its tasks, committed; None when this WhatsApp message was stored before."""
    media, location = message.media, message.location
    parameters = {
        "conversation_id": uuid.uuid4(), "chat_id": contact.chat_id, "phone_number": contact.phone_number,
        "name": name, "at": sent_at(message) or utcnow(), "maintenance": settings.maintenance_mode,
        "chat_limit": settings.chat_message_limit_per_minute, "message_id": uuid.uuid4(),
        "kind": message_kind(message).value, "from_phone": message.sender, "to_phone": message.to,
        "body": message.body or None, "media_url": media.url if media else None,
        "media_mimetype": media.mimetype if media else None, "media_filename": media.filename if media else None,
        "latitude": location.latitude if location else None, "longitude": location.longitude if location else None,
        "location_name": location.name if location else None,
        "location_address": location.address if location else None, "waha_message_id": message.id,
        "message_timestamp": sent_at(message), "turn_record_id": uuid.uuid4(), "day": date.today().isoformat(),
        "turn_task_id": task_id_for(f"turn-{message.id}"), "target": MESSAGE_PROCESSOR, "media_record_id": uuid.uuid4(),
        "media_task_id": task_id_for(f"media-{message.id}"), "fetch_media": bool(media and media.url),
    }  # fmt: skip
    with get_engine(autocommit=True).connect() as connection:
        row = connection.execute(_STORE, parameters).one_or_none()
    if row is None:
        return None
    return StoredMessage(row.id, row.conversation_id, row.processing_note, _tasks(row, settings.debounce_seconds))


def _tasks(row, debounce_seconds: float) -> list[Task]:
    """The recorded tasks as the queue will carry them (the same payloads the statement stored).

    A turn waits `debounce_seconds`, so that a burst of messages gets one reply (the newest message's task
    answers them all; see shared/assistant/batch.py)."""
    conversation, message = str(row.conversation_id), str(row.id)
    tasks = []
    if row.turn_task_id and row.processing_note == "maintenance":
        payload = {"kind": "maintenance_notice", "conversation_id": conversation}
        tasks.append(Task.build("messages", MESSAGE_PROCESSOR, payload, row.turn_task_id))
    elif row.turn_task_id:
        payload = {"kind": "process_message", "conversation_id": conversation, "message_id": message}
        tasks.append(Task.build("messages", MESSAGE_PROCESSOR, payload, row.turn_task_id, delay=debounce_seconds))
    if row.media_task_id:
        tasks.append(
            Task.build("media", MESSAGE_PROCESSOR, {"kind": "fetch_media", "message_id": message}, row.media_task_id)
        )
    return tasks
