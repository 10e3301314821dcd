"""Storing a patient's message: the intake's hot path, in one SQL statement and one round trip.

One statement, run outside an explicit transaction, is atomic in Postgres; its data-modifying CTEs
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
from shared.whatsapp.contacts import Contact
from shared.whatsapp.webhooks import Message

PROCESSOR = "message_processor"
_STORE = text("""
WITH conversation AS (
    INSERT INTO conversations (id, chat_id, phone_number, name, status, is_urgent, last_message_at)
    VALUES (:conversation_id, :chat_id, :phone_number, :name, 'ACTIVE', false, :at)
    ON CONFLICT (chat_id) DO UPDATE
       SET last_message_at = GREATEST(conversations.last_message_at, EXCLUDED.last_message_at),
           name = COALESCE(conversations.name, EXCLUDED.name),
           updated_at = now()
    RETURNING id
), decision AS (
    SELECT c.id AS conversation_id,
           CASE WHEN :maintenance THEN 'maintenance'
                WHEN (SELECT count(*) FROM conversation_messages m
                       WHERE m.conversation_id = c.id AND m.direction = 'INBOUND'
                         AND m.created_at > now() - interval '1 minute') >= :chat_limit THEN 'rate_limited'
           END AS note
      FROM conversation c
), message AS (
    INSERT INTO conversation_messages (
        id, conversation_id, direction, sender_kind, kind, from_phone, to_phone, body, media_url,
        media_mimetype, media_filename, latitude, longitude, location_name, location_address,
        waha_message_id, message_timestamp, processed_at, processing_note)
    SELECT :message_id, d.conversation_id, 'INBOUND', 'PATIENT', CAST(:kind AS message_kind), :from_phone,
           :to_phone, :body, :media_url, :media_mimetype, :media_filename, :latitude, :longitude,
           :location_name, :location_address, :waha_message_id, :message_timestamp,
           CASE WHEN d.note IS NOT NULL THEN now() END, d.note
      FROM decision d
    ON CONFLICT (waha_message_id) DO NOTHING
    RETURNING id, conversation_id, processing_note
), turn AS (
    INSERT INTO task_records (id, task_id, queue, target, payload, status, attempts)
    SELECT :turn_record_id,
           CASE WHEN m.processing_note = 'maintenance'
                THEN 'maintenance-' || m.conversation_id || '-' || :day ELSE :turn_task_id END,
           'messages', :target,
           CASE WHEN m.processing_note = 'maintenance'
                THEN jsonb_build_object('kind', 'maintenance_notice', 'conversation_id', m.conversation_id)
                ELSE jsonb_build_object('kind', 'process_message', 'conversation_id', m.conversation_id,
                                        'message_id', m.id) END,
           'PENDING', 0
      FROM message m
     WHERE m.processing_note IS DISTINCT FROM 'rate_limited'
    ON CONFLICT (task_id) DO NOTHING
    RETURNING task_id
), media AS (
    INSERT INTO task_records (id, task_id, queue, target, payload, status, attempts)
    SELECT :media_record_id, :media_task_id, 'media', :target,
           jsonb_build_object('kind', 'fetch_media', 'message_id', m.id), 'PENDING', 0
      FROM message m
     WHERE :fetch_media
    ON CONFLICT (task_id) DO NOTHING
    RETURNING task_id
)
SELECT m.id, m.conversation_id, m.processing_note,
       (SELECT task_id FROM turn) AS turn_task_id, (SELECT task_id FROM media) AS media_task_id
  FROM message m
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
        "turn_task_id": task_id_for(f"turn-{message.id}"), "target": PROCESSOR, "media_record_id": uuid.uuid4(),
        "media_task_id": task_id_for(f"media-{message.id}"), "fetch_media": bool(media and media.url),
    }  # fmt: skip
    with get_engine(autocommit=True).connect() as connection:
        row = connection.execute(_STORE, parameters).one_or_none()
    if row is None:
        return None
    return StoredMessage(row.id, row.conversation_id, row.processing_note, _tasks(row))


def _tasks(row) -> list[Task]:
    """The recorded tasks as the queue will carry them (the same payloads the statement stored)."""
    conversation, message = str(row.conversation_id), str(row.id)
    tasks = []
    if row.turn_task_id and row.processing_note == "maintenance":
        payload = {"kind": "maintenance_notice", "conversation_id": conversation}
        tasks.append(Task.build("messages", PROCESSOR, payload, row.turn_task_id))
    elif row.turn_task_id:
        payload = {"kind": "process_message", "conversation_id": conversation, "message_id": message}
        tasks.append(Task.build("messages", PROCESSOR, payload, row.turn_task_id))
    if row.media_task_id:
        tasks.append(Task.build("media", PROCESSOR, {"kind": "fetch_media", "message_id": message}, row.media_task_id))
    return tasks
