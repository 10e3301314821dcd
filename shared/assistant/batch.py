"""What a turn answers: the conversation's unanswered messages, and whether the bot may answer at all."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.conversations.models import (
    Conversation,
    ConversationMessage,
    MessageDirection,
    MessageKind,
    SenderKind,
)
from shared.db import utcnow

_messages = ConversationMessage.__table__
# What the model reads for a message without text (it cannot see media).
MEDIA_PLACEHOLDERS = {
    MessageKind.IMAGE: "[o paciente enviou uma imagem]",
    MessageKind.AUDIO: "[o paciente enviou um áudio]",
    MessageKind.VOICE: "[o paciente enviou um áudio]",
    MessageKind.VIDEO: "[o paciente enviou um vídeo]",
    MessageKind.DOCUMENT: "[o paciente enviou um documento]",
    MessageKind.STICKER: "[o paciente enviou uma figurinha]",
    MessageKind.LOCATION: "[o paciente enviou uma localização]",
    MessageKind.CONTACT: "[o paciente enviou um contato]",
}


@dataclass(frozen=True)
class PendingMessage:
    id: uuid.UUID
    kind: MessageKind
    body: str | None
    created_at: datetime

    @property
    def text(self) -> str:
        return self.body or MEDIA_PLACEHOLDERS.get(self.kind, "")


@dataclass(frozen=True)
class Batch:
    """The inbound messages one reply answers, oldest first."""

    conversation_id: uuid.UUID
    messages: list[PendingMessage]

    @property
    def latest_id(self) -> uuid.UUID:
        return self.messages[-1].id

    @property
    def ids(self) -> list[uuid.UUID]:
        return [message.id for message in self.messages]

    @property
    def texts(self) -> list[str]:
        return [message.text for message in self.messages if message.text]

    @property
    def patient_text(self) -> str:
        """Only what the patient typed (consent rules must not read our placeholders)."""
        return "\n".join(message.body for message in self.messages if message.body)


def load_batch(session: Session, conversation_id: uuid.UUID, message_id: uuid.UUID | None) -> Batch | None:
    """The unanswered messages, or None when there are none or when they belong to a later task.

    Each message's task is delayed by the debounce window; the task of the newest message answers the burst.
    A task whose message is not the newest unanswered one leaves the burst to that message's task (a sweep,
    with no message id, answers whatever waits).
    """
    rows = session.execute(
        select(_messages.c.id, _messages.c.kind, _messages.c.body, _messages.c.created_at)
        .where(
            _messages.c.conversation_id == conversation_id,
            _messages.c.direction == MessageDirection.INBOUND,
            _messages.c.processed_at.is_(None),
        )
        .order_by(_messages.c.created_at, _messages.c.id)
    ).all()
    if not rows or (message_id is not None and rows[-1].id != message_id):
        return None
    return Batch(conversation_id, [PendingMessage(*row) for row in rows])


def mark_processed(session: Session, batch: Batch, note: str) -> None:
    """Record that the batch was dealt with, and how (replied, opted_out, human_takeover, ...)."""
    session.execute(
        update(_messages)
        .where(_messages.c.id.in_(batch.ids), _messages.c.processed_at.is_(None))
        .values(processed_at=func.now(), processing_note=note)
    )


def silence_reason(session: Session, conversation: Conversation, settings: Settings) -> str | None:
    """Why the bot must not answer this conversation now, if it must not."""
    if settings.maintenance_mode:
        return "maintenance"
    if conversation.opted_out_at is not None:
        return "opted_out"
    if conversation.human_takeover_at is not None:
        if _human_active_since(session, conversation) > utcnow() - timedelta(minutes=settings.human_pause_minutes):
            return "human_takeover"
        conversation.human_takeover_at = None  # the person went idle: the bot may speak again
    return None


def _human_active_since(session: Session, conversation: Conversation) -> datetime:
    last_secretary_message = session.execute(
        select(func.max(_messages.c.created_at)).where(
            _messages.c.conversation_id == conversation.id, _messages.c.sender_kind == SenderKind.SECRETARY
        )
    ).scalar()
    return max(filter(None, [conversation.human_takeover_at, last_secretary_message]))


def recent_history(session: Session, conversation_id: uuid.UUID, before: Batch, limit: int) -> list[tuple[str, str]]:
    """The last `limit` messages before the batch, oldest first, as (sender kind, text)."""
    rows = session.execute(
        select(_messages.c.sender_kind, _messages.c.kind, _messages.c.body)
        .where(_messages.c.conversation_id == conversation_id, _messages.c.id.not_in(before.ids))
        .order_by(_messages.c.created_at.desc())
        .limit(limit)
    ).all()
    return [(sender.value, body or MEDIA_PLACEHOLDERS.get(kind, "")) for sender, kind, body in reversed(rows)]
