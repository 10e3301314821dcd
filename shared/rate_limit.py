"""Fixed-window rate limits counted in Redis, shared by every process of a function.

A limit is advice, not a gate we may not open: when Redis is unreachable `hit` answers None and callers let
the request through (the intake must never lose a message because the cache is down). After a failure,
Redis is not tried again for a few seconds, so an outage does not add a timeout to every request.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis

from shared.cache import get_redis, key
from shared.config import get_settings

RETRY_REDIS_AFTER_SECONDS = 5.0
log = logging.getLogger(__name__)
_redis_down_until: dict[str, float] = {}  # per Redis URL


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the window ends

    @property
    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }


def hit(name: str, subject: str, limit: int, window_seconds: int = 60, now: float | None = None) -> Allowance | None:
    """Count one event for `subject` under the limit `name`; None when Redis cannot be reached."""
    now = time.time() if now is None else now
    server = get_settings().redis_url
    if now < _redis_down_until.get(server, 0.0):
        return None
    window = int(now // window_seconds)
    counter = key("rate", name, subject, window)
    try:
        pipeline = get_redis().pipeline(transaction=False)
        pipeline.incr(counter)
        pipeline.expire(counter, window_seconds + 1)
        count, _ = pipeline.execute()
    except redis.RedisError as exc:
        _redis_down_until[server] = now + RETRY_REDIS_AFTER_SECONDS
        log.warning("rate limit %s not counted: redis unavailable (%s)", name, type(exc).__name__)
        return None
    reset = int((window + 1) * window_seconds - now) or 1
    return Allowance(count <= limit, limit, max(0, limit - count), reset)


def first_time(name: str, subject: str, ttl_seconds: int) -> bool:
    """True the first time `subject` is seen under `name` within ttl (to raise an alert once, say).

    Without Redis it answers True: a duplicate alert is better than a silent one.
    """
    try:
        return bool(get_redis().set(key("once", name, subject), "1", nx=True, ex=ttl_seconds))
    except redis.RedisError:
        return True
