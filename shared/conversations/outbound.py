"""Sending a message to a patient exactly once, however often the task that sends it runs.

The message is stored under an idempotency key (`client_ref`) and committed before WAHA is called; a
retried task finds the row and sends nothing if it went out. WAHA has no idempotency key of its own, so
one window remains: a crash after WAHA accepted the send and before we recorded it. The intake narrows it,
because WAHA's echo of the send (`fromMe`, `source: "api"`) claims the row too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from shared.conversations.models import (
    Conversation,
    ConversationMessage,
    DeliveryAck,
    MessageDirection,
    SenderKind,
)
from shared.db import session_scope
from shared.whatsapp.client import WahaClient, extract_message_id

_messages = ConversationMessage.__table__
_conversations = Conversation.__table__


@dataclass(frozen=True)
class SendResult:
    message_id: uuid.UUID
    waha_message_id: str | None
    sent_now: bool  # False: it had been sent by an earlier run


def send_text_once(
    conversation_id: uuid.UUID, client_ref: str, text: str, waha: WahaClient, sender: SenderKind = SenderKind.BOT
) -> SendResult:
    """Store then send `text` to the conversation's contact; a second call with the same key sends nothing."""
    with session_scope() as session:
        session.execute(
            insert(_messages)
            .values(
                id=uuid.uuid4(),
                conversation_id=conversation_id,
                direction=MessageDirection.OUTBOUND,
                sender_kind=sender,
                body=text,
                client_ref=client_ref,
                ack=DeliveryAck.PENDING,
            )
            .on_conflict_do_nothing(index_elements=["client_ref"])
        )
        row = session.execute(
            select(_messages.c.id, _messages.c.waha_message_id, _messages.c.sent_at, _conversations.c.chat_id)
            .join(_conversations, _conversations.c.id == _messages.c.conversation_id)
            .where(_messages.c.client_ref == client_ref)
        ).one()
    if row.sent_at is not None or row.waha_message_id is not None:
        return SendResult(row.id, row.waha_message_id, sent_now=False)
    waha_message_id = extract_message_id(waha.send_text(row.chat_id, text))
    record_sent(row.id, waha_message_id)
    return SendResult(row.id, waha_message_id, sent_now=True)


def record_sent(message_id: uuid.UUID, waha_message_id: str | None) -> None:
    """Mark a stored outbound message as sent, folding in WAHA's echo of it if the intake stored that first."""
    with session_scope() as session:
        if waha_message_id:
            session.execute(
                delete(_messages).where(
                    _messages.c.waha_message_id == waha_message_id,
                    _messages.c.client_ref.is_(None),
                    _messages.c.id != message_id,
                )
            )
        session.execute(
            update(_messages)
            .where(_messages.c.id == message_id)
            .values(
                waha_message_id=func.coalesce(_messages.c.waha_message_id, waha_message_id),
                sent_at=func.now(),
                ack=func.greatest(_messages.c.ack, DeliveryAck.SERVER),  # an ack may have come first
            )
        )
