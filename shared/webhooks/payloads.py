"""What each event tells a receiver, and the events the message processor emits. No secrets, no internals."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.conversations.models import Conversation, ConversationMessage, MessageDirection, SenderKind
from shared.db import session_scope
from shared.leads.models import Lead
from shared.webhooks.dispatch import emit_event, subscribers
from shared.webhooks.events import MESSAGE_RECEIVED

_MESSAGE_EVENTS = uuid.UUID("6f0f3b8e-4c1a-4f6e-9a53-113000000001")  # namespace of message.received event ids


def _text(value: object) -> str | None:
    return str(value) if value is not None else None


def lead_data(lead: Lead) -> dict[str, Any]:
    """lead.created's data."""
    return {
        "lead_id": str(lead.id),
        "conversation_id": _text(lead.conversation_id),
        "name": lead.name,
        "phone_number": lead.phone_number,
        "email": lead.email,
        "status": _text(lead.status),
        "source": _text(lead.source),
        "assigned_to_user_id": _text(lead.assigned_to_user_id),
    }


def conversation_data(conversation: Conversation) -> dict[str, Any]:
    """conversation.closed's data."""
    return {
        "conversation_id": str(conversation.id),
        "phone_number": conversation.phone_number,
        "name": conversation.name,
        "status": _text(conversation.status),
        "assigned_to_user_id": _text(conversation.assigned_to_user_id),
    }


def message_data(message: ConversationMessage, conversation: Conversation) -> dict[str, Any]:
    """message.received's data."""
    received_at = message.message_timestamp or message.created_at
    return {
        "message_id": str(message.id),
        "conversation_id": str(conversation.id),
        "phone_number": conversation.phone_number,
        "name": conversation.name,
        "kind": _text(message.kind),
        "body": message.body,
        "media_mimetype": message.media_mimetype,
        "received_at": received_at.isoformat() if received_at else None,
    }


def announce_received_messages(conversation_id: uuid.UUID, message_id: uuid.UUID | None) -> int:
    """Emit message.received for a patient's message (a sweep's task names none: its unprocessed ones), once each."""
    with session_scope() as session:
        if not subscribers(session, MESSAGE_RECEIVED):  # the usual case: one cheap query per turn
            return 0
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            return 0
        recorded = 0
        for message in _patient_messages(session, conversation_id, message_id):
            event_id = uuid.uuid5(_MESSAGE_EVENTS, str(message.id))  # the same on every run: delivered once
            recorded += emit_event(session, MESSAGE_RECEIVED, message_data(message, conversation), event_id=event_id)
        return recorded


def _patient_messages(session: Session, conversation_id: uuid.UUID, message_id: uuid.UUID | None):
    statement = select(ConversationMessage).where(
        ConversationMessage.conversation_id == conversation_id,
        ConversationMessage.direction == MessageDirection.INBOUND,
        ConversationMessage.sender_kind == SenderKind.PATIENT,
    )
    if message_id is not None:
        return session.scalars(statement.where(ConversationMessage.id == message_id)).all()
    return session.scalars(statement.where(ConversationMessage.processed_at.is_(None))).all()
