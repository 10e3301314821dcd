"""Satisfaction, sentiment, topics, competitors and the assistant's cost (cards 134, 147, 148, 149, 153).

- `nps`: feedback given in the period (`feedback.created_at`); promoters score 9-10, passives 7-8, detractors
  0-6; NPS = % promoters - % detractors over `responses` (all feedback), one decimal, null without responses;
  `average_score` is the mean score, two decimals. A USER's cover the feedback on conversations assigned to her.
- `sentiment`: the turns (`turn_insights`, dated by the patient's message they answered) in the period, counted
  by sentiment; `overall_sentiment_score` is the mean `sentiment_score` (-1..1) over them, two decimals; `trend`
  has every day of the period (zeros included, a day without turns has score null).
- `topics`: how many of the period's turns name each topic (the turn stores a set: its intent and the services
  named), most named first, ties by name, at most `limit`; `intents` the same per turn intent.
- `competitor-mentions`: per competitor, `mentions` (one per patient message naming it) and the distinct
  `conversations` they came from, in the period; every competitor in the clinic settings is listed (zeros
  included, matched case-insensitively), plus any name mentioned that is no longer in the list (`listed` false).
- `ai`: the model calls (`llm_interactions.created_at`) of the period: tokens, `estimated_cost_usd` (the sum of
  each call's cost, priced by shared/assistant/costs.py when it was made), mean and p95 latency, errors, per
  provider+model and per prompt version (shared/assistant/stats.py's one aggregate). A USER's cover the calls of
  conversations assigned to her; calls without a conversation are the clinic's only.
All scoping goes through the conversation the row belongs to.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shared.assistant.models import LLMInteraction
from shared.assistant.stats import PromptVersionUsageOut, ProviderUsageOut, usage_by_group
from shared.conversations.models import Conversation
from shared.metrics.answers import Kpi, KpiMetaOut, MetaOut
from shared.metrics.context import MetricsContext
from shared.metrics.period import MetricsQuery


class TopicsQuery(MetricsQuery):
    limit: int = Field(default=20, ge=1, le=100, description="at most this many topics (and intents)")


class NpsOut(KpiMetaOut):
    nps: float | None = Field(description="% promoters - % detractors, one decimal; null without responses",
                              examples=[42.9])  # fmt: skip
    responses: int = Field(examples=[7])
    promoters: int = Field(description="scores 9-10", examples=[4])
    passives: int = Field(description="scores 7-8", examples=[2])
    detractors: int = Field(description="scores 0-6", examples=[1])
    average_score: float | None = Field(description="mean score, two decimals", examples=[8.29])


class SentimentDayOut(BaseModel):
    date: str = Field(examples=["2026-11-15"])
    positive: int = Field(examples=[20])
    neutral: int = Field(examples=[11])
    negative: int = Field(examples=[4])
    score: float | None = Field(description="the day's mean score; null without turns", examples=[0.41])


class SentimentOut(KpiMetaOut):
    positive: int = Field(examples=[560])
    neutral: int = Field(examples=[320])
    negative: int = Field(examples=[120])
    overall_sentiment_score: float | None = Field(description="mean score -1..1, two decimals", examples=[0.44])
    trend: list[SentimentDayOut] = Field(description="every day of the period")


class TopicOut(BaseModel):
    topic: str = Field(examples=["agendamento"])
    count: int = Field(examples=[340])


class IntentOut(BaseModel):
    intent: str = Field(examples=["schedule"])
    count: int = Field(examples=[210])


class TopicsOut(MetaOut):
    turns: int = Field(description="the period's turns", examples=[1000])
    topics: list[TopicOut] = Field(description="most named first, ties by name")
    intents: list[IntentOut] = Field(description="most frequent first, ties by name")


class CompetitorOut(BaseModel):
    name: str = Field(examples=["Clínica X"])
    mentions: int = Field(examples=[23])
    conversations: int = Field(description="distinct conversations mentioning it", examples=[15])
    listed: bool = Field(description="still in the clinic settings' competitors", examples=[True])


class CompetitorsOut(MetaOut):
    competitors: list[CompetitorOut] = Field(description="most mentioned first, ties by name")
    total_mentions: int = Field(examples=[35])


class AiOut(KpiMetaOut):
    interactions: int = Field(examples=[5000])
    errors: int = Field(examples=[12])
    error_rate: float | None = Field(description="% of calls that failed, one decimal", examples=[0.2])
    prompt_tokens: int = Field(examples=[1000000])
    completion_tokens: int = Field(examples=[500000])
    total_tokens: int = Field(examples=[1500000])
    estimated_cost_usd: float = Field(description="sum of the calls' costs, 6 places", examples=[3.0])
    avg_latency_ms: float | None = Field(examples=[850.0])
    p95_latency_ms: float | None = Field(examples=[2100.0])
    by_provider: list[ProviderUsageOut] = Field(description="per provider and model, most used first")
    by_prompt_version: list[PromptVersionUsageOut] = Field(description="most used first")


def conversation_filter(ctx: MetricsContext, column: str) -> str:
    """SQL condition keeping rows whose conversation (`column`) is in the scope; no join for the whole clinic."""
    if ctx.user_id is None:
        return "TRUE"
    return f"{column} IN (SELECT c.id FROM conversations c WHERE {ctx.conversation_scope('c')})"  # noqa: S608 (our names)


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


_NPS = """
SELECT count(*) AS responses, count(*) FILTER (WHERE f.score >= 9) AS promoters,
       count(*) FILTER (WHERE f.score BETWEEN 7 AND 8) AS passives, count(*) FILTER (WHERE f.score <= 6) AS detractors,
       round(100.0 * (count(*) FILTER (WHERE f.score >= 9) - count(*) FILTER (WHERE f.score <= 6))
             / NULLIF(count(*), 0), 1) AS nps,
       round(avg(f.score), 2) AS average_score
FROM feedback f WHERE f.created_at >= :start AND f.created_at < :end AND {scope}
"""


def nps(session: Session, ctx: MetricsContext) -> Kpi:
    sql = _NPS.format(scope=conversation_filter(ctx, "f.conversation_id"))
    row = session.execute(text(sql), ctx.bounds()).one()
    figures = {"nps": _number(row.nps), "responses": row.responses, "promoters": row.promoters,
               "passives": row.passives, "detractors": row.detractors,
               "average_score": _number(row.average_score)}  # fmt: skip
    return Kpi(figures, n=row.responses)


_SENTIMENT = """
WITH turns AS (
    SELECT (t.created_at AT TIME ZONE :zone)::date AS day, t.sentiment, t.sentiment_score
    FROM turn_insights t WHERE t.created_at >= :start AND t.created_at < :end AND {scope}
)
SELECT day, grouping(day) = 1 AS is_total, count(*) FILTER (WHERE sentiment = 'positive') AS positive,
       count(*) FILTER (WHERE sentiment = 'neutral') AS neutral,
       count(*) FILTER (WHERE sentiment = 'negative') AS negative, count(*) AS turns,
       round(avg(sentiment_score), 2) AS score
FROM turns GROUP BY GROUPING SETS ((day), ())
"""


def sentiment(session: Session, ctx: MetricsContext) -> Kpi:
    sql = _SENTIMENT.format(scope=conversation_filter(ctx, "t.conversation_id"))
    rows = session.execute(text(sql), ctx.bounds()).all()
    total = next(row for row in rows if row.is_total)  # the empty grouping set answers even without turns
    days = {row.day: row for row in rows if not row.is_total}
    trend = []
    for day in ctx.period.each_day():
        found = days.get(day)
        trend.append({"date": day.isoformat(), "positive": found.positive if found else 0,
                      "neutral": found.neutral if found else 0, "negative": found.negative if found else 0,
                      "score": _number(found.score) if found else None})  # fmt: skip
    figures = {"positive": total.positive, "neutral": total.neutral, "negative": total.negative,
               "overall_sentiment_score": _number(total.score)}  # fmt: skip
    return Kpi(figures, n=total.turns, extra={"trend": trend})


_TOPICS = """
SELECT topic, count(*) AS count
FROM turn_insights t CROSS JOIN LATERAL unnest(t.topics) AS topic
WHERE t.created_at >= :start AND t.created_at < :end AND {scope}
GROUP BY topic ORDER BY count(*) DESC, topic LIMIT :limit
"""
_INTENTS = """
SELECT t.intent, count(*) AS count FROM turn_insights t
WHERE t.created_at >= :start AND t.created_at < :end AND {scope} GROUP BY t.intent
"""


def topics(session: Session, ctx: MetricsContext, query: TopicsQuery) -> dict:
    scope = conversation_filter(ctx, "t.conversation_id")
    found = session.execute(text(_TOPICS.format(scope=scope)), {**ctx.bounds(), "limit": query.limit}).all()
    intents = session.execute(text(_INTENTS.format(scope=scope)), ctx.bounds()).all()
    named = sorted((row for row in intents if row.intent is not None), key=lambda row: (-row.count, row.intent))
    return {"turns": sum(row.count for row in intents),
            "topics": [{"topic": row.topic, "count": row.count} for row in found],
            "intents": [{"intent": row.intent, "count": row.count} for row in named[: query.limit]]}  # fmt: skip


# A mention counts under the listed name it matches case-insensitively (or its own name when none does).
_COMPETITORS = """
WITH listed AS (SELECT name FROM unnest(CAST(:names AS text[])) AS name)
SELECT coalesce(l.name, m.competitor) AS name, l.name IS NOT NULL AS listed, count(*) AS mentions,
       count(DISTINCT m.conversation_id) AS conversations
FROM competitor_mentions m LEFT JOIN listed l ON lower(l.name) = lower(m.competitor)
WHERE m.created_at >= :start AND m.created_at < :end AND {scope}
GROUP BY 1, 2
"""


def competitor_mentions(session: Session, ctx: MetricsContext) -> dict:
    names = list(ctx.settings.competitors)
    sql = _COMPETITORS.format(scope=conversation_filter(ctx, "m.conversation_id"))
    found = {row.name: row for row in session.execute(text(sql), {**ctx.bounds(), "names": names})}
    rows = [{"name": name, "mentions": found[name].mentions if name in found else 0,
             "conversations": found[name].conversations if name in found else 0, "listed": True}
            for name in names]  # fmt: skip
    rows += [{"name": row.name, "mentions": row.mentions, "conversations": row.conversations, "listed": False}
             for row in found.values() if not row.listed]  # fmt: skip
    rows.sort(key=lambda row: (-row["mentions"], row["name"].casefold()))
    return {"competitors": rows, "total_mentions": sum(row["mentions"] for row in rows)}


def _ai_scope(ctx: MetricsContext) -> list[Any]:
    if ctx.user_id is None:
        return []
    hers = select(Conversation.id).where(Conversation.assigned_to_user_id == ctx.user_id)
    return [LLMInteraction.conversation_id.in_(hers)]


def ai_usage(session: Session, ctx: MetricsContext) -> Kpi:
    usage = usage_by_group(session, ctx.period.start, ctx.period.end, where=_ai_scope(ctx))
    totals = usage["totals"]
    calls = totals["interactions"]
    figures = {"interactions": calls, "errors": totals["errors"],
               "error_rate": round(totals["errors"] * 100 / calls, 1) if calls else None,
               "prompt_tokens": totals["prompt_tokens"], "completion_tokens": totals["completion_tokens"],
               "total_tokens": totals["total_tokens"], "estimated_cost_usd": float(Decimal(totals["cost_usd"])),
               "avg_latency_ms": totals["avg_latency_ms"], "p95_latency_ms": totals["p95_latency_ms"]}  # fmt: skip
    extra = {"by_provider": usage["by_provider"], "by_prompt_version": usage["by_prompt_version"]}
    return Kpi(figures, n=calls, extra=extra)
