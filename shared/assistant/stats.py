"""What the assistant's model calls cost and how they went (cards 091, 095, 147): read side, one aggregate.

Totals, per prompt version (to compare versions, card 095) and per provider and model come from a single
`GROUP BY GROUPING SETS` over `llm_interactions`, filtered on `created_at` (indexed). The response cache's
hit and miss counters live in Redis and count since they began, not within the date range.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import redis
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.orm import Session

from shared.assistant.models import LLMInteraction, LLMProvider
from shared.audit.schemas import DateRangeQuery
from shared.db import utcnow

DEFAULT_PERIOD = timedelta(days=30)
_MICRO_DOLLAR = Decimal("0.000001")  # the column's scale


class AIStatsQuery(DateRangeQuery):
    """Without dates, the last 30 days; with only `date_from`, up to now; with only `date_to`, the 30 days before."""


class UsageOut(BaseModel):
    interactions: int = Field(description="model calls (cache hits made none)", examples=[1500])
    errors: int = Field(description="calls that failed (`error` recorded)", examples=[12])
    prompt_tokens: int = Field(examples=[30000])
    completion_tokens: int = Field(examples=[15000])
    total_tokens: int = Field(examples=[45000])
    cost_usd: str = Field(description="USD as an exact decimal string, 6 places", examples=["12.500000"])
    avg_latency_ms: float | None = Field(description="mean latency, 0.1 ms; null without calls", examples=[850.5])
    p95_latency_ms: float | None = Field(description="95th percentile (interpolated); null without calls",
                                         examples=[2100.0])  # fmt: skip


class PromptVersionUsageOut(UsageOut):
    prompt_version: str = Field(examples=["2026-01-10"])


class ProviderUsageOut(UsageOut):
    provider: LLMProvider = Field(examples=["GEMINI"])
    model: str = Field(examples=["gemini-2.5-flash"])


class ResponseCacheOut(BaseModel):
    hits: int | None = Field(description="since the counters began; null when Redis is unavailable", examples=[40])
    misses: int | None = Field(examples=[160])
    hit_rate: float | None = Field(description="hits / (hits + misses), 4 places; null without lookups",
                                   examples=[0.2])  # fmt: skip


class AIStatsOut(BaseModel):
    date_from: datetime = Field(description="start of the period, inclusive", examples=["2026-01-01T03:00:00Z"])
    date_to: datetime = Field(description="end of the period, exclusive", examples=["2026-01-31T03:00:00Z"])
    totals: UsageOut
    by_prompt_version: list[PromptVersionUsageOut] = Field(description="most used first")
    by_provider: list[ProviderUsageOut] = Field(description="per provider and model, most used first")
    response_cache: ResponseCacheOut


def _figures() -> list[Any]:
    row = LLMInteraction
    return [
        func.count().label("interactions"),
        func.count().filter(row.error.is_not(None)).label("errors"),
        func.coalesce(func.sum(row.prompt_tokens), 0).label("prompt_tokens"),
        func.coalesce(func.sum(row.completion_tokens), 0).label("completion_tokens"),
        func.coalesce(func.sum(row.total_tokens), 0).label("total_tokens"),
        func.coalesce(func.sum(row.cost_usd), 0).label("cost_usd"),
        func.round(func.avg(row.latency_ms), 1).label("avg_latency_ms"),
        func.percentile_cont(0.95).within_group(row.latency_ms).label("p95_latency_ms"),
    ]


def _usage(row: Any) -> dict[str, Any]:
    return {
        "interactions": row.interactions,
        "errors": row.errors,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "total_tokens": row.total_tokens,
        "cost_usd": str(Decimal(row.cost_usd).quantize(_MICRO_DOLLAR)),
        "avg_latency_ms": None if row.avg_latency_ms is None else float(row.avg_latency_ms),
        "p95_latency_ms": None if row.p95_latency_ms is None else round(float(row.p95_latency_ms), 1),
    }


def period(query: AIStatsQuery, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The [start, end) the query asks for, 30 days by default."""
    end = (query.date_to or now or utcnow()).astimezone(UTC)
    return (query.date_from or end - DEFAULT_PERIOD).astimezone(UTC), end


def usage_by_group(
    session: Session, start: datetime, end: datetime, where: Sequence[ColumnElement[bool]] = ()
) -> dict[str, Any]:
    """Totals, per prompt version and per provider+model of the model calls in [start, end) meeting `where`."""
    row = LLMInteraction
    # grouping() is 0b111 on the totals row, 0b011 on a prompt version's, 0b100 on a provider+model's.
    which = func.grouping(row.prompt_version, row.provider, row.model_name).label("grouping")
    statement = (
        select(which, row.prompt_version, row.provider, row.model_name, *_figures())
        .where(row.created_at >= start, row.created_at < end, *where)
        .group_by(func.grouping_sets(tuple_(), tuple_(row.prompt_version), tuple_(row.provider, row.model_name)))
    )
    totals, versions, providers = {}, [], []
    for found in session.execute(statement):
        if found.grouping == 0b111:
            totals = _usage(found)
        elif found.grouping == 0b011:
            versions.append({"prompt_version": found.prompt_version, **_usage(found)})
        else:
            providers.append({"provider": found.provider, "model": found.model_name, **_usage(found)})
    return {
        "totals": totals,  # the empty grouping set yields its row even when no call matches
        "by_prompt_version": sorted(versions, key=lambda v: (-v["interactions"], v["prompt_version"])),
        "by_provider": sorted(providers, key=lambda p: (-p["interactions"], p["provider"], p["model"])),
    }


def response_cache_figures(cache_stats: Callable[[], dict[str, int]]) -> ResponseCacheOut:
    """The cache's counters, or nulls when Redis cannot be read: the database figures still stand."""
    try:
        counters = cache_stats()
    except redis.RedisError:
        return ResponseCacheOut(hits=None, misses=None, hit_rate=None)
    hits, misses = counters["hits"], counters["misses"]
    rate = round(hits / (hits + misses), 4) if hits + misses else None
    return ResponseCacheOut(hits=hits, misses=misses, hit_rate=rate)


def ai_stats(session: Session, query: AIStatsQuery, cache_stats: Callable[[], dict[str, int]]) -> AIStatsOut:
    """The AI usage report of the period the query asks for."""
    start, end = period(query)
    usage = usage_by_group(session, start, end)
    return AIStatsOut(date_from=start, date_to=end, response_cache=response_cache_figures(cache_stats), **usage)
