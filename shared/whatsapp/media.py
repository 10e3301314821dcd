"""Fetching a message's media from WAHA into our media store, before WAHA's copy expires (180 s by default)."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select, update

from shared.config import Settings, get_settings
from shared.conversations.models import ConversationMessage
from shared.db import session_scope
from shared.whatsapp.client import WahaClient
from shared.whatsapp.errors import WahaMediaTooLarge, WahaNotFound
from shared.whatsapp.media_store import MediaStore, get_media_store, media_key

_messages = ConversationMessage.__table__
log = logging.getLogger(__name__)


def fetch_media(
    message_id: uuid.UUID,
    *,
    waha: WahaClient | None = None,
    store: MediaStore | None = None,
    settings: Settings | None = None,
) -> str:
    """Copy a stored message's media into the media store once; returns what happened.

    Gone (erased message, expired file) and too large are final: retrying cannot help, so they return
    instead of raising. WAHA or the store being unreachable raises, and the queue retries.
    """
    settings = settings or get_settings()
    with session_scope() as session:
        row = session.execute(
            select(_messages.c.conversation_id, _messages.c.waha_message_id, _messages.c.media_url,
                   _messages.c.media_mimetype, _messages.c.media_filename, _messages.c.media_storage_key)
            .where(_messages.c.id == message_id)
        ).one_or_none()  # fmt: skip
    if row is None or not row.media_url:
        return "no-media"
    if row.media_storage_key:
        return "already-stored"
    waha = waha or WahaClient.from_settings(settings, retries=0)  # the queue retries the task, with backoff
    try:
        data, content_type = waha.download_media(row.media_url, max_bytes=settings.media_max_bytes)
    except WahaNotFound:
        log.warning("media of message %s is gone from WAHA; not retrying", message_id)
        return "expired"
    except WahaMediaTooLarge:
        log.warning("media of message %s exceeds MEDIA_MAX_BYTES; not stored", message_id)
        return "too-large"
    content_type = row.media_mimetype or content_type
    key = media_key(row.conversation_id, row.waha_message_id or str(message_id), row.media_filename or content_type)
    (store or get_media_store(settings)).put(key, data, content_type)
    with session_scope() as session:
        session.execute(update(_messages).where(_messages.c.id == message_id).values(media_storage_key=key))
    return "stored"
