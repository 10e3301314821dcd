"""The live dashboard's polling fallback (`GET /dashboard/live`): today's numbers and the events since the last poll,
for clients that cannot hold a stream open. Same scope and same events as the stream (`live_feed`)."""

from __future__ import annotations

import logging

import redis
from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.cache import get_redis
from shared.metrics.context import resolve_scope
from shared.metrics.live_feed import STREAM_START, last_generated, read_after, visible_events
from shared.metrics.live_kpis import live_kpis
from shared.metrics.live_schemas import LiveQuery

log = logging.getLogger(__name__)


def poll_live(session: Session, actor: Principal, query: LiveQuery) -> dict:
    """Today's numbers for the caller's scope, and the events after `query.since` she may see."""
    scope = resolve_scope(session, actor, query.user_id)
    answer = {"kpi": live_kpis(session, scope, query.tz), "events": [], "more": False, "stream_available": True}
    try:
        if query.since is None:
            return answer | {"last_id": last_generated(get_redis()) or STREAM_START}
        events, last_id, more = read_after(get_redis(), query.since, query.limit)
    except redis.RedisError:
        log.warning("live events unavailable: redis unreachable")
        return answer | {"last_id": query.since or STREAM_START, "stream_available": False}
    shown = [event.out() for event in visible_events(session, events, scope)]
    return answer | {"events": shown, "last_id": last_id, "more": more}
