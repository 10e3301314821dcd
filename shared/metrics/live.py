"""The live dashboard's events (card 145), appended to one Redis Stream that the stream function reads back.

Each entry names its event and carries only ids, statuses and times: never a patient's words, name or number (the
stream feeds every ADMIN's dashboard and its ids are replayed on reconnect). Events are published after the
database commit, so nothing is shown that then rolls back, and best-effort: a Redis that is down or slow costs the
caller at most one short timeout every few seconds, never an error.

Events named by the outbound webhooks keep their constants (`shared/webhooks/events.py`); the live dashboard adds
two of its own.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from shared import cache
from shared.config import get_settings
from shared.conversations.models import Conversation
from shared.db import utcnow
from shared.leads.models import Lead
from shared.webhooks.events import LEAD_CREATED, MESSAGE_RECEIVED

LEAD_CONVERTED = "lead.converted"  # a lead reached SCHEDULED (its converted_at was set)
CONVERSATION_STATUS = "conversation.status"  # a conversation's status changed
KPI = "kpi"  # the stream's own tick: today's numbers for the client's scope (never stored in Redis)
EVENTS = (MESSAGE_RECEIVED, LEAD_CREATED, LEAD_CONVERTED, CONVERSATION_STATUS)

STREAM_MAX_ENTRIES = 5000  # trimmed approximately: a client away for longer than this many events gets what is left
RETRY_REDIS_AFTER_SECONDS = 5.0
PUBLISH_TIMEOUT_SECONDS = 0.25
_PENDING = "live_events"  # key in session.info
log = logging.getLogger(__name__)
_redis_down_until: dict[str, float] = {}  # per Redis URL


def stream_key() -> str:
    return cache.key("live", "events")


@lru_cache(maxsize=4)
def _publisher(url: str) -> redis.Redis:
    # Its own client: the shared one retries a refused connection for seconds, which a patient's turn must not wait.
    timeout = PUBLISH_TIMEOUT_SECONDS
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True,
                                retry=Retry(NoBackoff(), 1))  # fmt: skip


def publish(event: str, **data: Any) -> str | None:
    """Append one event (ids and statuses only) to the live stream; its stream id, or None when Redis is away."""
    url = get_settings().redis_url
    if time.monotonic() < _redis_down_until.get(url, 0.0):
        return None
    fields = {"event": event, "data": json.dumps({**_texts(data), "at": utcnow().isoformat()})}
    try:
        return _publisher(url).xadd(stream_key(), fields, maxlen=STREAM_MAX_ENTRIES, approximate=True)
    except redis.RedisError as exc:
        _redis_down_until[url] = time.monotonic() + RETRY_REDIS_AFTER_SECONDS
        log.warning("live event %s not published: redis unavailable (%s)", event, type(exc).__name__)
        return None


def _texts(data: dict[str, Any]) -> dict[str, Any]:
    return {name: str(value) if isinstance(value, uuid.UUID) else value for name, value in data.items()}


def lead_data(lead: Lead) -> dict[str, Any]:
    return {"lead_id": lead.id, "conversation_id": lead.conversation_id, "status": lead.status,
            "source": lead.source, "assigned_to_user_id": lead.assigned_to_user_id}  # fmt: skip


def converted_data(lead: Lead) -> dict[str, Any]:
    converted_at = lead.converted_at.isoformat() if lead.converted_at else None
    return {"lead_id": lead.id, "conversation_id": lead.conversation_id,
            "assigned_to_user_id": lead.assigned_to_user_id, "converted_at": converted_at}  # fmt: skip


def conversation_data(conversation: Conversation) -> dict[str, Any]:
    return {"conversation_id": conversation.id, "status": conversation.status,
            "assigned_to_user_id": conversation.assigned_to_user_id}  # fmt: skip


def announce_lead_created(session: Session, lead: Lead) -> None:
    """lead.created, published once `session` commits, as the lead then stands (its assignee included)."""
    _after_commit(session, LEAD_CREATED, lead, lead_data)


def announce_lead_converted(session: Session, lead: Lead) -> None:
    """lead.converted, published once `session` commits."""
    _after_commit(session, LEAD_CONVERTED, lead, converted_data)


def announce_conversation_status(session: Session, conversation: Conversation) -> None:
    """conversation.status, published once `session` commits, with the status and assignee it commits."""
    _after_commit(session, CONVERSATION_STATUS, conversation, conversation_data)


def _after_commit(session: Session, event: str, row: object, describe: Callable[[Any], dict[str, Any]]) -> None:
    if _PENDING not in session.info:
        session.info[_PENDING] = {}
        orm_event.listen(session, "before_commit", _describe_pending)
        orm_event.listen(session, "after_commit", _publish_pending)
        orm_event.listen(session, "after_rollback", _forget_pending)
    # Described at commit time, not now: a handoff assigns the lead after creating it.
    session.info[_PENDING][event, id(row)] = (event, row, describe)


def _describe_pending(session: Session) -> None:
    pending = session.info.get(_PENDING) or {}
    session.info[_PENDING] = {key: (event, describe(row)) for key, (event, row, describe) in pending.items()}


def _publish_pending(session: Session) -> None:
    described, session.info[_PENDING] = session.info.get(_PENDING) or {}, {}
    for event, data in described.values():
        publish(event, **data)


def _forget_pending(session: Session) -> None:
    session.info[_PENDING] = {}
