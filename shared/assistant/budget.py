"""Per-conversation counters in Redis: the daily model-call budget (card 089) and failures in a row (card 088)."""

from __future__ import annotations

import uuid
from datetime import date

from shared.cache import get_redis, key

DAY_SECONDS = 24 * 3600


def take_model_call(conversation_id: uuid.UUID, limit: int, today: date | None = None) -> bool:
    """Count one model call for today; False when the conversation had spent its `limit` already."""
    day = (today or date.today()).isoformat()
    counter = key("llm-calls", conversation_id, day)
    pipe = get_redis().pipeline()
    pipe.incr(counter)
    pipe.expire(counter, 2 * DAY_SECONDS)
    calls, _ = pipe.execute()
    return int(calls) <= limit


def record_failures(conversation_id: uuid.UUID, failed_calls: int) -> int:
    """Add failed model calls to the conversation's run of failures; returns the run's length."""
    counter = key("llm-failures", conversation_id)
    pipe = get_redis().pipeline()
    pipe.incrby(counter, failed_calls)
    pipe.expire(counter, DAY_SECONDS)
    total, _ = pipe.execute()
    return int(total)


def clear_failures(conversation_id: uuid.UUID) -> None:
    """A successful call ends the run of failures."""
    get_redis().delete(key("llm-failures", conversation_id))
