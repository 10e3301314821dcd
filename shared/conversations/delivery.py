"""What happens to a message after it is stored: delivery acks, edits, revocations and reactions."""

from __future__ import annotations

from sqlalchemy import func, or_, update
from sqlalchemy.orm import Session

from shared.conversations.models import ConversationMessage, DeliveryAck

_messages = ConversationMessage.__table__

# WAHA's numeric ack levels (`WAMessageAckBody.ack`).
ACK_LEVELS = {
    -1: DeliveryAck.ERROR,
    0: DeliveryAck.PENDING,
    1: DeliveryAck.SERVER,
    2: DeliveryAck.DEVICE,
    3: DeliveryAck.READ,
    4: DeliveryAck.PLAYED,
}


def apply_ack(session: Session, waha_message_id: str, level: int) -> bool:
    """Move a message's delivery state forward; an older or repeated ack changes nothing.

    `delivery_ack` is a Postgres enum declared in order, so `ack < :new` compares levels; WAHA's acks
    can arrive out of order (DEVICE before SERVER) and are retried, hence the guard in the same statement.
    """
    new = ACK_LEVELS[level]
    result = session.execute(
        update(_messages)
        .where(_messages.c.waha_message_id == waha_message_id)
        .where(or_(_messages.c.ack.is_(None), _messages.c.ack < new))
        .values(ack=new, ack_at=func.now())
    )
    return result.rowcount > 0


def _matching(waha_message_id: str):
    """WAHA names an edited or revoked message by its full id or by its short WhatsApp key (the id's tail)."""
    if "_" in waha_message_id:
        return _messages.c.waha_message_id == waha_message_id
    return _messages.c.waha_message_id.like("%\\_" + waha_message_id.replace("%", "").replace("_", "\\_"))


def mark_revoked(session: Session, waha_message_id: str) -> bool:
    """The sender deleted the message for everyone: keep it for the record, marked revoked."""
    statement = update(_messages).where(_matching(waha_message_id), _messages.c.revoked_at.is_(None))
    return session.execute(statement.values(revoked_at=func.now())).rowcount > 0


def apply_edit(session: Session, waha_message_id: str, body: str | None) -> bool:
    """The sender edited the message: keep the new text and when it changed."""
    statement = update(_messages).where(_matching(waha_message_id))
    return session.execute(statement.values(body=body, edited_at=func.now())).rowcount > 0


def apply_reaction(session: Session, waha_message_id: str, emoji: str) -> bool:
    """The patient reacted to a message (an empty reaction removes it)."""
    statement = update(_messages).where(_messages.c.waha_message_id == waha_message_id)
    return session.execute(statement.values(patient_reaction=emoji or None)).rowcount > 0
