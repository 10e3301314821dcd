"""Recording what the clinic's own number sends, as WhatsApp reports it: a secretary typing on the clinic's
phone, and the echo of our own sends (a patient's message has its own hot path in `patient_messages`).
`ON CONFLICT` on the WAHA message id is what makes a repeated delivery store nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.conversations.models import (
    Conversation,
    ConversationMessage,
    ConversationStatus,
    MessageDirection,
    MessageKind,
    SenderKind,
)
from shared.db import utcnow
from shared.whatsapp.contacts import Contact
from shared.whatsapp.webhooks import Message

_conversations = Conversation.__table__
_messages = ConversationMessage.__table__


@dataclass(frozen=True)
class Recorded:
    conversation_id: uuid.UUID
    message_id: uuid.UUID | None  # None: this WhatsApp message was stored before (a repeated delivery)

    @property
    def is_new(self) -> bool:
        return self.message_id is not None


def message_kind(message: Message) -> MessageKind:
    """What kind of message WAHA delivered, from its media type, location or contact cards."""
    if message.location is not None:
        return MessageKind.LOCATION
    if message.vcards:
        return MessageKind.CONTACT
    mimetype = (message.media.mimetype or "") if message.media else ""
    if not message.has_media and not mimetype:
        return MessageKind.TEXT if message.body else MessageKind.OTHER
    if mimetype.startswith("image/"):
        return MessageKind.STICKER if mimetype == "image/webp" else MessageKind.IMAGE
    if mimetype.startswith("audio/"):
        return MessageKind.VOICE if "opus" in mimetype or "ogg" in mimetype else MessageKind.AUDIO
    if mimetype.startswith("video/"):
        return MessageKind.VIDEO
    return MessageKind.DOCUMENT


def sent_at(message: Message) -> datetime | None:
    return datetime.fromtimestamp(message.timestamp, UTC) if message.timestamp else None


def _conversation_upsert():
    statement = insert(_conversations).values(
        id=bindparam("id"),
        chat_id=bindparam("chat_id"),
        phone_number=bindparam("phone_number"),
        name=bindparam("name"),
        status=bindparam("status"),
        last_message_at=bindparam("at"),
    )
    statement = statement.on_conflict_do_update(
        index_elements=[_conversations.c.chat_id],
        set_={
            "last_message_at": func.greatest(_conversations.c.last_message_at, statement.excluded.last_message_at),
            "name": func.coalesce(_conversations.c.name, statement.excluded.name),
            "updated_at": func.now(),
        },
    )
    return statement.returning(_conversations.c.id)


# Built once: the intake runs these for every message, and building a statement costs more than running it.
_UPSERT_CONVERSATION = _conversation_upsert()
_MESSAGE_COLUMNS = (
    "id", "conversation_id", "direction", "sender_kind", "kind", "from_phone", "to_phone", "body", "media_url",
    "media_mimetype", "media_filename", "latitude", "longitude", "location_name", "location_address",
    "waha_message_id", "message_timestamp", "sent_at",
)  # fmt: skip
_INSERT_MESSAGE = (
    insert(_messages)
    .values({name: bindparam(name) for name in _MESSAGE_COLUMNS})
    .on_conflict_do_nothing(index_elements=["waha_message_id"])
    .returning(_messages.c.id)
)


def upsert_conversation(session: Session, contact: Contact, name: str | None, at: datetime) -> uuid.UUID:
    """The conversation with this contact, created on its first message; its last-message time moves forward."""
    parameters = {"id": uuid.uuid4(), "chat_id": contact.chat_id, "phone_number": contact.phone_number,
                  "name": name, "status": ConversationStatus.ACTIVE, "at": at}  # fmt: skip
    return session.execute(_UPSERT_CONVERSATION, parameters).scalar_one()


def _message_values(message: Message, conversation_id: uuid.UUID, contact: Contact) -> dict:
    media, location = message.media, message.location
    return {
        "id": uuid.uuid4(),
        "conversation_id": conversation_id,
        "kind": message_kind(message),
        "from_phone": message.sender,
        "to_phone": message.to,
        "body": message.body or None,
        "media_url": media.url if media else None,
        "media_mimetype": media.mimetype if media else None,
        "media_filename": media.filename if media else None,
        "latitude": _coordinate(location.latitude) if location else None,
        "longitude": _coordinate(location.longitude) if location else None,
        "location_name": location.name if location else None,
        "location_address": location.address if location else None,
        "waha_message_id": message.id,
        "message_timestamp": sent_at(message),
    }


def _coordinate(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.000001"))


def _insert_message(session: Session, values: dict) -> uuid.UUID | None:
    parameters = dict.fromkeys(_MESSAGE_COLUMNS) | values
    return session.execute(_INSERT_MESSAGE, parameters).scalar_one_or_none()


def record_clinic_phone_message(session: Session, message: Message, contact: Contact) -> Recorded:
    """A person typed on the clinic's phone: store it as a secretary's message and let the human lead."""
    conversation_id = upsert_conversation(session, contact, None, sent_at(message) or utcnow())
    values = _message_values(message, conversation_id, contact)
    values.update(direction=MessageDirection.OUTBOUND, sender_kind=SenderKind.SECRETARY, sent_at=sent_at(message))
    recorded = Recorded(conversation_id, _insert_message(session, values))
    if recorded.is_new:
        session.execute(
            update(_conversations)
            .where(_conversations.c.id == conversation_id, _conversations.c.human_takeover_at.is_(None))
            .values(human_takeover_at=func.now(), updated_at=func.now())
        )
    return recorded


def record_own_send(session: Session, message: Message, contact: Contact, *, insert_unmatched: bool) -> Recorded | None:
    """WAHA's echo of a message we sent through its API: attach it to the row we stored before sending.

    The echo can overtake the send's own HTTP answer, so a row still waiting for its WhatsApp id (same chat,
    same text) is claimed here. A send we have no row for (another API client) is inserted when
    `insert_unmatched`, else None is returned.
    """
    conversation_id = upsert_conversation(session, contact, None, sent_at(message) or utcnow())
    known = session.execute(select(_messages.c.id).where(_messages.c.waha_message_id == message.id)).scalar()
    if known is not None:
        return Recorded(conversation_id, None)
    pending = (
        select(_messages.c.id)
        .where(
            _messages.c.conversation_id == conversation_id,
            _messages.c.direction == MessageDirection.OUTBOUND,
            _messages.c.waha_message_id.is_(None),
            _messages.c.body.is_not_distinct_from(message.body or None),
        )
        .order_by(_messages.c.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = session.execute(
        update(_messages).where(_messages.c.id == pending).values(waha_message_id=message.id).returning(_messages.c.id)
    ).scalar()
    if claimed is not None:
        return Recorded(conversation_id, None)
    if not insert_unmatched:
        return None
    values = _message_values(message, conversation_id, contact)
    values.update(direction=MessageDirection.OUTBOUND, sender_kind=SenderKind.BOT, sent_at=sent_at(message))
    return Recorded(conversation_id, _insert_message(session, values))
