"""What the assistant's tests share: a patient writing through the real intake, and reading what came back."""

from __future__ import annotations

import json
import time
import uuid

from sqlalchemy import select

from local.waha_emulator import EmulatorServer
from shared.conversations.models import Conversation, ConversationMessage, MessageDirection, SenderKind
from shared.db import session_scope
from shared.queue import TaskQueue
from shared.tasks.in_process import InProcessQueue
from shared.whatsapp.intake import handle_webhook
from shared.whatsapp.webhooks import parse_webhook

PATIENT = "5511988887777@c.us"


def message_event(
    text: str, chat: str = PATIENT, message_id: str | None = None, *, from_me: bool = False, source: str | None = None
) -> bytes:
    """A WAHA `message`-style webhook body (the fields the intake reads, as WAHA sends them)."""
    key = message_id or f"{'true' if from_me else 'false'}_{chat}_{uuid.uuid4().hex[:20].upper()}"
    payload = {"id": key, "timestamp": int(time.time()), "from": chat, "fromMe": from_me, "body": text}
    if from_me:
        payload |= {"from": "5511900000000@c.us", "to": chat, "source": source or "app"}
    return json.dumps(
        {"event": "message.any" if from_me else "message", "session": "default", "payload": payload}
    ).encode()


def patient_says(text: str, chat: str = PATIENT, *, queue: TaskQueue | None = None, message_id: str | None = None):
    """Deliver a patient's message through the intake; its turn runs at once unless a queue is given."""
    return handle_webhook(
        parse_webhook(message_event(text, chat, message_id)), queue=queue or InProcessQueue(inline=True)
    )


def bot_replies(waha: EmulatorServer, chat: str = PATIENT) -> list[dict]:
    """What the WAHA emulator was asked to send to `chat`, oldest first."""
    return [m for m in waha.emulator.outbox.list_messages({chat}) if m.get("kind") != "reaction"]


def reply_texts(waha: EmulatorServer, chat: str = PATIENT) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in bot_replies(waha, chat)]


def conversation_of(chat: str = PATIENT) -> Conversation:
    with session_scope() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.chat_id == chat)).one()
        session.expunge(conversation)
        return conversation


def stored_bot_messages(chat: str = PATIENT) -> list[ConversationMessage]:
    with session_scope() as session:
        rows = session.scalars(
            select(ConversationMessage)
            .join(Conversation)
            .where(
                Conversation.chat_id == chat,
                ConversationMessage.direction == MessageDirection.OUTBOUND,
                ConversationMessage.sender_kind == SenderKind.BOT,
            )
            .order_by(ConversationMessage.created_at)
        ).all()
        session.expunge_all()
        return list(rows)
