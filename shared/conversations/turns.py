"""A conversation's turn: the unanswered messages of one chat, handled under that chat's lock.

Until the assistant exists (issue 4) a turn only records that its messages were handled; the lock, the
loading and the bookkeeping are the parts the assistant keeps.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import func, select, update

from shared.cache import get_redis, key
from shared.config import get_settings
from shared.conversations.models import ConversationMessage, MessageDirection
from shared.conversations.outbound import SendResult, send_text_once
from shared.db import session_scope
from shared.whatsapp.client import WahaClient

TURN_LOCK_SECONDS = 120
MAINTENANCE_NOTICE = (
    "Olá! Nosso atendimento automático está em manutenção neste momento. Sua mensagem foi recebida e a "
    "nossa equipe vai responder assim que possível. Obrigado pela paciência! 🙏"
)
_messages = ConversationMessage.__table__


class ConversationBusy(Exception):
    """Another turn of this conversation holds its lock; try again shortly."""


@contextmanager
def conversation_lock(conversation_id: uuid.UUID, wait_seconds: float = 2.0) -> Iterator[None]:
    """Two turns of one chat never overlap (Redis lock that expires if its holder dies)."""
    lock = get_redis().lock(key("lock", "conversation", conversation_id), timeout=TURN_LOCK_SECONDS,
                            blocking_timeout=wait_seconds)  # fmt: skip
    if not lock.acquire():
        raise ConversationBusy(str(conversation_id))
    try:
        yield
    finally:
        lock.release()


def run_turn(conversation_id: uuid.UUID) -> int:
    """Handle every inbound message of the conversation not yet processed; returns how many."""
    with conversation_lock(conversation_id), session_scope() as session:
        pending = select(_messages.c.id).where(
            _messages.c.conversation_id == conversation_id,
            _messages.c.direction == MessageDirection.INBOUND,
            _messages.c.processed_at.is_(None),
        )
        handled = session.execute(
            update(_messages)
            .where(_messages.c.id.in_(pending.scalar_subquery()))
            .values(processed_at=func.now(), processing_note="handled")
        )
        return handled.rowcount


def send_maintenance_notice(conversation_id: uuid.UUID, waha: WahaClient | None = None) -> SendResult:
    """Tell the patient, once a day, that the bot is paused and a person will answer."""
    waha = waha or WahaClient.from_settings(get_settings())
    client_ref = f"maintenance:{conversation_id}:{date.today().isoformat()}"
    return send_text_once(conversation_id, client_ref, MAINTENANCE_NOTICE, waha)
