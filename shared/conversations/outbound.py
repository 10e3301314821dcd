"""Sending messages to a patient exactly once, however often the task that sends them runs.

A message is stored under an idempotency key (`client_ref`) and committed before WAHA is called; what goes out
is the stored row, so a retried task sends the same words, and a row already sent is skipped. WAHA has no
idempotency key of its own, so one window remains: a crash after WAHA accepted the send and before we recorded
it. The intake narrows it, because WAHA's echo of the send (`fromMe`, `source: "api"`) claims the row too.

Sending follows WAHA's advice for not looking like a bot: mark the chat seen, show "typing..." for a time
proportional to the text, then send (the pause is 0 in tests).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.conversations.models import (
    Conversation,
    ConversationMessage,
    DeliveryAck,
    MessageDirection,
    MessageKind,
    SenderKind,
)
from shared.db import session_scope
from shared.whatsapp.client import WahaClient, extract_message_id
from shared.whatsapp.errors import WahaError
from shared.whatsapp.payloads import MediaFile

_messages = ConversationMessage.__table__
_conversations = Conversation.__table__
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    """A message to send: text, a media file (with caption) or a map pin."""

    kind: MessageKind = MessageKind.TEXT
    body: str | None = None
    media_url: str | None = None
    media_mimetype: str | None = None
    media_filename: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    location_name: str | None = None


@dataclass(frozen=True)
class Typing:
    """How long "typing..." shows before a send."""

    seconds_per_char: float = 0.0
    max_seconds: float = 0.0
    sleep: Callable[[float], None] = time.sleep

    def pause_for(self, text: str | None) -> float:
        return min(len(text or "") * self.seconds_per_char, self.max_seconds)


@dataclass(frozen=True)
class SendResult:
    message_id: uuid.UUID
    waha_message_id: str | None
    sent_now: bool  # False: it had been sent by an earlier run


def store_outbound(
    session: Session,
    conversation_id: uuid.UUID,
    client_ref: str,
    draft: Draft,
    sender: SenderKind = SenderKind.BOT,
    sender_user_id: uuid.UUID | None = None,
) -> None:
    """Add a message to send to the caller's transaction; a second one under the same key is ignored."""
    session.execute(
        insert(_messages)
        .values(
            id=uuid.uuid4(),
            conversation_id=conversation_id,
            direction=MessageDirection.OUTBOUND,
            sender_kind=sender,
            sender_user_id=sender_user_id,
            kind=draft.kind,
            body=draft.body,
            media_url=draft.media_url,
            media_mimetype=draft.media_mimetype,
            media_filename=draft.media_filename,
            latitude=draft.latitude,
            longitude=draft.longitude,
            location_name=draft.location_name,
            client_ref=client_ref,
            ack=DeliveryAck.PENDING,
        )
        .on_conflict_do_nothing(index_elements=["client_ref"])
    )


def send_text_once(
    conversation_id: uuid.UUID,
    client_ref: str,
    text: str,
    waha: WahaClient,
    sender: SenderKind = SenderKind.BOT,
    typing: Typing | None = None,
) -> SendResult:
    """Store then send `text` to the conversation's contact; a second call with the same key sends nothing."""
    with session_scope() as session:
        store_outbound(session, conversation_id, client_ref, Draft(body=text), sender)
    return send_stored(client_ref, waha, typing or Typing())


def send_stored(client_ref: str, waha: WahaClient, typing: Typing) -> SendResult:
    """Send the stored message `client_ref` unless it went out already."""
    with session_scope() as session:
        row = session.execute(_SELECT_STORED.where(_messages.c.client_ref == client_ref)).one()
    return _send_row(row, waha, typing)


def deliver_pending(conversation_id: uuid.UUID, waha: WahaClient, typing: Typing) -> list[SendResult]:
    """Send, in order, every stored bot message of the conversation that has not gone out yet."""
    with session_scope() as session:
        rows = session.execute(
            _SELECT_STORED.where(
                _messages.c.conversation_id == conversation_id,
                _messages.c.direction == MessageDirection.OUTBOUND,
                _messages.c.sender_kind == SenderKind.BOT,
                _messages.c.client_ref.is_not(None),
                _messages.c.sent_at.is_(None),
                _messages.c.waha_message_id.is_(None),
            ).order_by(_messages.c.created_at, _messages.c.client_ref)
        ).all()
    return [_send_row(row, waha, typing) for row in rows]


_SELECT_STORED = select(
    _messages.c.id,
    _messages.c.waha_message_id,
    _messages.c.sent_at,
    _messages.c.kind,
    _messages.c.body,
    _messages.c.media_url,
    _messages.c.media_mimetype,
    _messages.c.media_filename,
    _messages.c.latitude,
    _messages.c.longitude,
    _messages.c.location_name,
    _conversations.c.chat_id,
).join(_conversations, _conversations.c.id == _messages.c.conversation_id)


def _send_row(row, waha: WahaClient, typing: Typing) -> SendResult:
    if row.sent_at is not None or row.waha_message_id is not None:
        return SendResult(row.id, row.waha_message_id, sent_now=False)
    _look_human(row, waha, typing)
    waha_message_id = extract_message_id(_send_by_kind(row, waha))
    record_sent(row.id, waha_message_id)
    return SendResult(row.id, waha_message_id, sent_now=True)


def _look_human(row, waha: WahaClient, typing: Typing) -> None:
    pause = typing.pause_for(row.body)
    try:
        waha.send_seen(row.chat_id)
        if pause > 0:
            waha.start_typing(row.chat_id)
            typing.sleep(pause)
            waha.stop_typing(row.chat_id)
    except WahaError as exc:  # cosmetic: never a reason not to answer
        log.info("seen/typing skipped: %s", type(exc).__name__)


def _send_by_kind(row, waha: WahaClient) -> dict:
    """The WAHA method for the message's kind (card 087)."""
    if row.kind == MessageKind.LOCATION:
        return waha.send_location(row.chat_id, float(row.latitude), float(row.longitude), row.location_name or "")
    if row.kind == MessageKind.TEXT or not row.media_url:
        return waha.send_text(row.chat_id, row.body or "")
    file = MediaFile.from_url(row.media_url, row.media_mimetype or "application/octet-stream", row.media_filename)
    if row.kind in (MessageKind.AUDIO, MessageKind.VOICE):
        return waha.send_voice(row.chat_id, file)
    if row.kind == MessageKind.VIDEO:
        return waha.send_video(row.chat_id, file, caption=row.body)
    if row.kind == MessageKind.IMAGE:
        return waha.send_image(row.chat_id, file, caption=row.body)
    return waha.send_file(row.chat_id, file, caption=row.body)


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
