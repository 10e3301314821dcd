"""The live stream's loop (card 145): what was missed after `Last-Event-ID`, then each new event as it comes, a `kpi`
tick at most once a second and only after something the viewer sees, a heartbeat comment when nothing was written
for a while, and a clean end before the platform's request timeout (the browser reconnects with Last-Event-ID).

Redis is read with redis.asyncio, so an open stream holds a socket, never a thread. When Redis goes away the
browser's connection stays: heartbeats go on while the read is retried with backoff, and reading resumes after the
last event read (`resume_point` handles a Redis that comes back empty). The database (the scope of a patient's
message, the kpi numbers) is reached through the synchronous engine in a worker thread, milliseconds at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import anyio
import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy.exc import SQLAlchemyError

from shared.metrics.live import KPI, stream_key
from shared.metrics.live_feed import STREAM_START, LiveEvent, parse_entries, resume_point, sse_event

HEARTBEAT = ": heartbeat\n\n"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamTiming:
    heartbeat_seconds: float = 15.0
    kpi_min_interval: float = 1.0  # at most one kpi a second per client
    retry_ms: int = 3000  # SSE `retry:`: how long a browser waits before it reconnects
    backoff_first: float = 0.2  # seconds before the first retry of a lost Redis, doubling up to backoff_max
    backoff_max: float = 5.0
    read_count: int = 200  # entries per read: a long replay goes out in batches


@dataclass(frozen=True)
class StreamPlan:
    redis_url: str
    cursor: str | None  # the Last-Event-ID to replay after; None: from now
    max_seconds: float
    visible: Callable[[list[LiveEvent]], list[LiveEvent]]  # the viewer's scope; runs in a thread
    kpis: Callable[[], dict]  # today's numbers for that scope; runs in a thread


class LiveStream:
    """One client's stream; `run()` yields the text to send."""

    def __init__(self, plan: StreamPlan, timing: StreamTiming | None = None) -> None:
        self.plan, self.timing = plan, timing or StreamTiming()
        self.cursor = plan.cursor
        self.client: aioredis.Redis | None = None
        self.aligned = False  # the cursor was checked against this connection's Redis
        self.backoff = self.timing.backoff_first
        self.kpi_wanted = True  # the first tick tells the dashboard where it stands
        self.last_kpi = self.last_write = float("-inf")
        self.outage_logged = False

    async def run(self) -> AsyncIterator[str]:
        deadline = time.monotonic() + self.plan.max_seconds
        yield f"retry: {self.timing.retry_ms}\n\n"
        self.last_write = time.monotonic()
        try:
            while (left := deadline - time.monotonic()) > 0:
                chunks = await self._step(min(left, self._wait()))
                if not chunks and time.monotonic() - self.last_write >= self.timing.heartbeat_seconds:
                    chunks = [HEARTBEAT]
                for chunk in chunks:
                    yield chunk
                if chunks:
                    self.last_write = time.monotonic()
            yield ": this stream ends here; reconnect with Last-Event-ID to go on\n\n"
        finally:
            with anyio.CancelScope(shield=True):  # a client that left cancels us; the socket is still ours to close
                await self._disconnect()

    def _wait(self) -> float:
        """Seconds until a heartbeat or a wanted kpi is due."""
        now = time.monotonic()
        due = self.last_write + self.timing.heartbeat_seconds
        if self.kpi_wanted:
            due = min(due, self.last_kpi + self.timing.kpi_min_interval)
        return max(0.0, due - now)

    async def _step(self, wait: float) -> list[str]:
        before = self.cursor
        try:
            events = await self._read(wait)
            chunks = [event.sse() for event in await asyncio.to_thread(self.plan.visible, events)] if events else []
        except (redis.RedisError, OSError) as exc:
            await self._lost(exc, wait)
            return await self._tick([])
        except SQLAlchemyError as exc:  # the scope could not be checked: read these events again later
            self.cursor = before
            await self._lost(exc, wait)
            return []
        self.backoff, self.outage_logged = self.timing.backoff_first, False
        self.kpi_wanted = self.kpi_wanted or bool(chunks)
        return await self._tick(chunks)

    async def _read(self, wait: float) -> list[LiveEvent]:
        client = self._connected()
        if not self.aligned:
            self.cursor = await self._start(client)
            self.aligned = True
        block = int(wait * 1000) if wait >= 0.001 else None  # BLOCK 0 would wait forever; None does not wait
        answer = await client.xread({stream_key(): self.cursor}, count=self.timing.read_count, block=block)
        entries = answer[0][1] if answer else []
        if entries:
            self.cursor = entries[-1][0]
        return parse_entries(entries)

    async def _start(self, client: aioredis.Redis) -> str:
        try:
            last = (await client.xinfo_stream(stream_key()))["last-generated-id"]
        except redis.ResponseError:  # no such key: nothing was published yet, or Redis came back empty
            last = None
        if self.cursor is None:
            return last or STREAM_START
        return resume_point(self.cursor, last)

    async def _tick(self, chunks: list[str]) -> list[str]:
        if not self.kpi_wanted or time.monotonic() - self.last_kpi < self.timing.kpi_min_interval:
            return chunks
        try:
            numbers = await asyncio.to_thread(self.plan.kpis)
        except SQLAlchemyError as exc:
            log.warning("live kpi skipped: database unavailable (%s)", type(exc).__name__)
            return chunks
        self.kpi_wanted, self.last_kpi = False, time.monotonic()
        return [*chunks, sse_event(KPI, numbers, self.cursor)]

    async def _lost(self, exc: Exception, wait: float) -> None:
        if not self.outage_logged:
            log.warning("live stream waiting for its backends (%s); retrying", type(exc).__name__)
            self.outage_logged = True
        await self._disconnect()
        await asyncio.sleep(min(self.backoff, wait))
        self.backoff = min(self.backoff * 2, self.timing.backoff_max)

    def _connected(self) -> aioredis.Redis:
        if self.client is None:
            # Its own connection: a blocked XREAD holds one, and retries are ours (with heartbeats in between).
            self.client = aioredis.Redis.from_url(
                self.plan.redis_url, decode_responses=True, socket_connect_timeout=2,
                socket_timeout=self.timing.heartbeat_seconds + 5, retry=Retry(NoBackoff(), 0),
            )  # fmt: skip
        return self.client

    async def _disconnect(self) -> None:
        client, self.client, self.aligned = self.client, None, False
        if client is not None:
            with contextlib.suppress(redis.RedisError, OSError):
                await client.aclose()
