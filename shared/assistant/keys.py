"""Several Gemini keys used in turn, a failing one benched for a while (card 116).

The bench lives in Redis so that every processor instance stops using a refused key at once; if Redis is
unreachable the bench is kept in this process only (the turn itself does not depend on it).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import threading
import time

import redis

from shared.cache import get_redis, key

log = logging.getLogger(__name__)


def key_label(api_key: str) -> str:
    """A name for a key that logs may show: never the key itself."""
    return "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:8]


class KeyRing:
    def __init__(self, keys: list[str], bench_seconds: int) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self.keys = list(keys)
        self.bench_seconds = bench_seconds
        self._turn = itertools.count()
        self._local_bench: dict[str, float] = {}
        self._lock = threading.Lock()

    def next_key(self) -> str:
        """The next key in turn that is not benched; when all are, the one benched longest ago."""
        with self._lock:
            start = next(self._turn)
        ordered = [self.keys[(start + i) % len(self.keys)] for i in range(len(self.keys))]
        until = {api_key: self._benched_until(api_key) for api_key in ordered}
        now = time.time()
        for api_key in ordered:
            if until[api_key] <= now:
                return api_key
        return min(ordered, key=until.__getitem__)

    def bench(self, api_key: str, reason: str) -> None:
        """Leave `api_key` out of the rotation for bench_seconds."""
        until = time.time() + self.bench_seconds
        self._local_bench[api_key] = until
        log.warning("gemini %s benched for %ds: %s", key_label(api_key), self.bench_seconds, reason)
        with contextlib.suppress(redis.RedisError):  # the local bench still holds
            get_redis().set(key("gemini", "bench", key_label(api_key)), str(until), ex=self.bench_seconds)

    def _benched_until(self, api_key: str) -> float:
        try:
            value = get_redis().get(key("gemini", "bench", key_label(api_key)))
        except redis.RedisError:
            value = None
        return max(float(value or 0), self._local_bench.get(api_key, 0.0))
