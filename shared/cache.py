"""Redis: one connection pool per process, and every key inside the configured namespace."""

from __future__ import annotations

from functools import lru_cache

import redis

from shared.config import get_settings


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    """The process's Redis client (card 015): pooled, with short timeouts so a dead Redis fails fast."""
    settings = get_settings()
    return redis.Redis.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        socket_timeout=2,
        socket_connect_timeout=2,
        health_check_interval=30,
        decode_responses=True,
    )


def key(*parts: object) -> str:
    """A namespaced key, e.g. key("login-failures", email) -> "clinicbot:login-failures:ana@x.com"."""
    return ":".join([get_settings().redis_namespace, *(str(part) for part in parts)])


def close_redis() -> None:
    """Drop the pool (the local stack and the tests switch servers at run time)."""
    if get_redis.cache_info().currsize:
        get_redis().close()
    get_redis.cache_clear()
