"""Health of the backends (card 014): Postgres, Redis and WAHA, each checked with a 2 s timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import httpx
from pydantic import BaseModel, Field
from sqlalchemy import text

from shared.cache import get_redis
from shared.config import get_settings
from shared.db import get_engine

CHECK_TIMEOUT_SECONDS = 2.0
_pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="health")


class CheckOut(BaseModel):
    ok: bool = Field(examples=[True])
    latency_ms: float | None = Field(default=None, examples=[1.4])
    error: str | None = None


class HealthOut(BaseModel):
    status: str = Field(examples=["ok"])
    db: CheckOut
    redis: CheckOut
    waha: CheckOut

    @property
    def serving(self) -> bool:
        """We can take traffic when Postgres and Redis answer; WAHA down only stops replies going out."""
        return self.db.ok and self.redis.ok


def _check_db() -> None:
    with get_engine().connect() as connection:
        connection.execute(text("SET LOCAL statement_timeout = 2000"))
        connection.execute(text("SELECT 1"))


def _check_redis() -> None:
    get_redis().ping()


def _check_waha() -> None:
    settings = get_settings()
    headers = {"X-Api-Key": settings.waha_api_key.get_secret_value()} if settings.waha_api_key else {}
    response = httpx.get(f"{settings.waha_url.rstrip('/')}/ping", headers=headers, timeout=CHECK_TIMEOUT_SECONDS)
    response.raise_for_status()


def _timed(check: Callable[[], None]) -> CheckOut:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # any failure of a backend is reported, not raised
        return CheckOut(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
    return CheckOut(ok=True, latency_ms=round((time.perf_counter() - started) * 1000, 1))


def check_health() -> HealthOut:
    """Run the three checks in parallel; a check that does not finish in 2 s counts as failed."""
    futures = {
        name: _pool.submit(_timed, check)
        for name, check in (("db", _check_db), ("redis", _check_redis), ("waha", _check_waha))
    }
    deadline = time.monotonic() + CHECK_TIMEOUT_SECONDS
    results = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            results[name] = CheckOut(ok=False, error=f"no answer within {CHECK_TIMEOUT_SECONDS:g} s")
    db, redis_, waha = results["db"], results["redis"], results["waha"]
    status = "ok" if db.ok and redis_.ok and waha.ok else ("degraded" if db.ok and redis_.ok else "down")
    return HealthOut(status=status, db=db, redis=redis_, waha=waha)
