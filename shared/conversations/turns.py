"""The conversation lock every turn runs under, and the maintenance notice (the assistant's turn itself is
shared/assistant/turn.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from shared.cache import get_redis, key
from shared.config import get_settings
from shared.conversations.outbound import SendResult, send_text_once
from shared.whatsapp.client import WahaClient

TURN_LOCK_SECONDS = 120
MAINTENANCE_NOTICE = (
    "Olá! Nosso atendimento automático está em manutenção neste momento. Sua mensagem foi recebida e a "
    "nossa equipe vai responder assim que possível. Obrigado pela paciência! 🙏"
)


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


def send_maintenance_notice(conversation_id: uuid.UUID, waha: WahaClient | None = None) -> SendResult:
    """Tell the patient, once a day, that the bot is paused and a person will answer."""
    waha = waha or WahaClient.from_settings(get_settings())
    client_ref = f"maintenance:{conversation_id}:{date.today().isoformat()}"
    return send_text_once(conversation_id, client_ref, MAINTENANCE_NOTICE, waha)
