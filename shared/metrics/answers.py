"""How every metric answers: the period it covers, its scope, `as_of`, and for KPIs the previous period's numbers
with `delta_pct`; cached in Redis per scope, period and parameters.

Caching: an answer whose period ends before today is kept 5 minutes (card 126); one that includes today only
`TODAY_TTL_SECONDS`, so a new patient message shows in today's numbers within seconds. The key holds the user
whose numbers they are (never shared between scopes) and the settings' `updated_at` (a change of hours or SLA
is seen at once). With Redis down every answer is computed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from shared import cache
from shared.metrics.context import MetricsContext

PAST_TTL_SECONDS = 300
TODAY_TTL_SECONDS = 5
AGGREGATE_WORK_MEM = "32MB"  # per sort or hash of a computed answer's statements, for its transaction only
log = logging.getLogger("clinicbot.metrics")
Number = int | float | None


@dataclass
class Kpi:
    """A KPI's numbers (compared with the previous period; a nested group of numbers is carried to `previous` but
    gets no delta), the sample behind them, and what is not compared."""

    figures: dict[str, Any]
    n: int
    extra: dict[str, Any] = field(default_factory=dict)


class MetaOut(BaseModel):
    period: str = Field(description="first and last day, both included", examples=["2026-11-01 to 2026-11-30"])
    start_date: str = Field(examples=["2026-11-01"])
    end_date: str = Field(examples=["2026-11-30"])
    tz: str = Field(description="the zone the days are read in", examples=["America/Sao_Paulo"])
    user_id: str | None = Field(description="whose numbers; null for the whole clinic", examples=[None])
    as_of: str = Field(description="when these numbers were computed (UTC)", examples=["2026-11-30T15:00:00+00:00"])


class KpiMetaOut(MetaOut):
    n: int = Field(description="the sample behind the averages, rates or percentiles", examples=[120])
    previous: dict[str, Any] = Field(description="the same numbers over the preceding period of equal length",
                                     examples=[{"n": 100}])  # fmt: skip
    delta_pct: dict[str, float | None] = Field(description="(current - previous) / previous x 100, one decimal; "
                                               "null when the previous is 0 or missing", examples=[{}])  # fmt: skip


def delta_pct(current: Number, previous: Number) -> float | None:
    if current is None or previous is None or previous == 0:
        return None
    return round((current - previous) / abs(previous) * 100, 1)


def meta(ctx: MetricsContext) -> dict[str, Any]:
    period = ctx.period
    return {"period": period.label(), "start_date": period.first_day.isoformat(),
            "end_date": period.last_day.isoformat(), "tz": period.zone_name,
            "user_id": str(ctx.user_id) if ctx.user_id else None, "as_of": ctx.now.isoformat()}  # fmt: skip


def room_to_sort(session: Session) -> None:
    """Give this transaction's sorts and hashes room in memory: percentiles and groupings over a month of waits,
    turns or model calls spill to disk with the server's default 4 MB (a few times slower)."""
    session.execute(text(f"SET LOCAL work_mem = '{AGGREGATE_WORK_MEM}'"))


def kpi_answer(session: Session, ctx: MetricsContext, compute: Callable[[Session, MetricsContext], Kpi]) -> dict:
    """The KPI over the period and over the one before it, with the deltas."""
    room_to_sort(session)
    current, previous = compute(session, ctx), compute(session, ctx.previous())
    return {
        **current.figures,
        **current.extra,
        "n": current.n,
        "previous": {**previous.figures, "n": previous.n},
        "delta_pct": {name: delta_pct(value, previous.figures.get(name)) for name, value in current.figures.items()
                      if isinstance(value, int | float) and not isinstance(value, bool)},
        **meta(ctx),
    }  # fmt: skip


def series_answer(session: Session, ctx: MetricsContext, compute: Callable[[Session, MetricsContext], dict]) -> dict:
    room_to_sort(session)
    return {**compute(session, ctx), **meta(ctx)}


def _cache_key(name: str, ctx: MetricsContext, params: dict[str, Any]) -> str:
    identity = json.dumps({"p": params, "u": str(ctx.user_id), "f": ctx.period.first_day.isoformat(),
                           "l": ctx.period.last_day.isoformat(), "z": ctx.period.zone_name,
                           "s": ctx.settings.updated_at.isoformat()}, sort_keys=True, default=str)  # fmt: skip
    return cache.key("metrics", name, hashlib.sha256(identity.encode()).hexdigest()[:32])


def cached(name: str, ctx: MetricsContext, params: dict[str, Any], build: Callable[[], dict]) -> dict:
    """`build()`'s answer, from Redis when a fresh one is there."""
    key = _cache_key(name, ctx, params)
    try:
        hit = cache.get_redis().get(key)
        if hit is not None:
            return json.loads(hit)
    except redis.RedisError:
        log.warning("metrics cache unavailable; computing", extra={"metric": name})
        return build()
    answer = build()
    ttl = TODAY_TTL_SECONDS if ctx.period.includes_today(ctx.now) else PAST_TTL_SECONDS
    try:
        cache.get_redis().set(key, json.dumps(answer, default=str), ex=ttl)
    except redis.RedisError:
        log.warning("metrics cache unavailable; not stored", extra={"metric": name})
    return answer
