"""Anomalies (card 142): a day's numbers against the same weekday of the four weeks before.

The day is yesterday in the zone (today is not over), or `date`, or the period's `end_date`. Each watched metric
is computed on that day and, pooled, over its baseline: the same weekday 1, 2, 3 and 4 weeks earlier, leaving out
those that were holidays or closures of the clinic. A count's baseline is the mean of those days; a ratio's is
the ratio of their sums (never a mean of daily ratios). `deviation` = (current - baseline) / |baseline| x 100,
one decimal; beyond 30 % either way is an anomaly: severity `medium` above 30 %, `high` above 50 %, `critical`
above 100 %. `direction` is up or down (null when equal); `bad` says whether that direction hurts (fewer
conversions, slower answers); rises and falls are both reported. Not flagged: a ratio whose day or baseline rests
on fewer than `MIN_SAMPLE` (5) observations (one NPS answer is no trend); a baseline of 0, which gives no
percentage, except that a count reaching `MIN_FROM_ZERO` (10) from a zero baseline is flagged `high` with
deviation null; and any day the clinic is closed (its numbers are still in `checked`).

Watched (all scoped like the rest: a user's conversations and leads when `user_id` is given):
- patient_messages: patients' messages (bad when down); new_conversations: conversations created (down);
  new_leads: live leads created (down); conversions: live leads whose `converted_at` falls on the day (down);
- conversion_rate: conversions / new leads of the same day, %; an event ratio, not conversion-rate's cohort,
  because a day's new leads have not had time to convert and would always look like a fall (down);
- avg_response_seconds: mean answered wait started on the day (response_waits) (bad when up);
- nps: % promoters - % detractors of the feedback given on the day (down).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.metrics.answers import MetaOut
from shared.metrics.context import MetricsContext, metrics_context
from shared.metrics.counts import message_counts
from shared.metrics.period import MetricsQuery, Period
from shared.metrics.quality import conversation_filter

WEEKS = 4
THRESHOLD_PCT = 30.0
SEVERITIES = ((100.0, "critical"), (50.0, "high"), (THRESHOLD_PCT, "medium"))
MIN_SAMPLE = 5
MIN_FROM_ZERO = 10
Severity = Literal["medium", "high", "critical"]
Parts = dict[str, tuple[float, float]]  # metric -> (numerator, denominator) of one day
Day = date  # the query's field `date` would shadow the type inside its class


@dataclass(frozen=True)
class Watched:
    name: str
    bad_when: Literal["up", "down"]
    ratio: bool = False  # numerator / denominator x scale, else a count
    scale: float = 1.0


WATCHED = (
    Watched("patient_messages", "down"),
    Watched("new_conversations", "down"),
    Watched("new_leads", "down"),
    Watched("conversions", "down"),
    Watched("conversion_rate", "down", ratio=True, scale=100.0),
    Watched("avg_response_seconds", "up", ratio=True),
    Watched("nps", "down", ratio=True, scale=100.0),
)


class AnomaliesQuery(MetricsQuery):
    date: Day | None = Field(default=None, description="the day to check (default: end_date, else yesterday)")


class AnomalyOut(BaseModel):
    metric: str = Field(examples=["conversion_rate"])
    date: str = Field(examples=["2026-11-15"])
    current: float | None = Field(examples=[12.0])
    baseline: float | None = Field(description="same weekday, previous 4 weeks", examples=[18.0])
    deviation: float | None = Field(description="% from the baseline, one decimal", examples=[-33.3])
    severity: Severity | None = Field(examples=["medium"])
    direction: Literal["up", "down"] | None = Field(examples=["down"])
    bad: bool | None = Field(description="whether this direction hurts the clinic", examples=[True])


class CheckedOut(AnomalyOut):
    flagged: bool = Field(examples=[True])
    sample: float = Field(description="the day's count, or the denominator of its ratio", examples=[25])
    baseline_sample: float = Field(description="the same over the baseline days", examples=[100])
    reason: str | None = Field(description="why it could not be judged", examples=[None])


class AnomaliesOut(MetaOut):
    date: str = Field(examples=["2026-11-15"])
    closed_day: bool = Field(description="a holiday or closure: nothing is flagged", examples=[False])
    baseline_days: list[str] = Field(description="the weekdays the baseline pools")
    anomalies: list[AnomalyOut]
    checked: list[CheckedOut] = Field(description="every watched metric with its numbers")


def anomaly_day(query: AnomaliesQuery, ctx: MetricsContext) -> date:
    """The day a request checks: `date`, else `end_date`, else yesterday in the zone."""
    return query.date or query.end_date or ctx.now.astimezone(ctx.period.zone).date() - timedelta(days=1)


_DAILY = """
SELECT 'new_conversations' AS metric, (c.created_at AT TIME ZONE :zone)::date AS day, count(*) AS num, 1 AS den
FROM conversations c WHERE c.created_at >= :start AND c.created_at < :end AND {conversations} GROUP BY 2
UNION ALL
SELECT 'new_leads', (l.created_at AT TIME ZONE :zone)::date, count(*), 1
FROM leads l WHERE l.created_at >= :start AND l.created_at < :end AND {leads} GROUP BY 2
UNION ALL
SELECT 'conversions', (l.converted_at AT TIME ZONE :zone)::date, count(*), 1
FROM leads l WHERE l.converted_at >= :start AND l.converted_at < :end AND {leads} GROUP BY 2
UNION ALL
SELECT 'avg_response_seconds', (w.started_at AT TIME ZONE :zone)::date,
       sum(extract(epoch FROM w.ended_at - w.started_at)), count(*)
FROM response_waits w WHERE w.started_at >= :start AND w.started_at < :end AND w.ended_at IS NOT NULL
     AND {waits} GROUP BY 2
UNION ALL
SELECT 'nps', (f.created_at AT TIME ZONE :zone)::date,
       count(*) FILTER (WHERE f.score >= 9) - count(*) FILTER (WHERE f.score <= 6), count(*)
FROM feedback f WHERE f.created_at >= :start AND f.created_at < :end AND {feedback} GROUP BY 2
"""


def daily_parts(session: Session, ctx: MetricsContext) -> dict[date, Parts]:
    """Every watched metric's (numerator, denominator) per day of `ctx`'s period."""
    sql = _DAILY.format(conversations=ctx.conversation_scope("c"), leads=ctx.lead_scope("l"),
                        waits=conversation_filter(ctx, "w.conversation_id"),
                        feedback=conversation_filter(ctx, "f.conversation_id"))  # fmt: skip
    days: dict[date, Parts] = {day: {} for day in ctx.period.each_day()}
    for metric, day, num, den in session.execute(text(sql), ctx.bounds()):
        days[day][metric] = (float(num), float(den))
    for start, counts in message_counts(session, ctx, "day").items():
        days[start.date()]["patient_messages"] = (float(counts.patient), 1.0)
    for parts in days.values():
        news, won = parts.get("new_leads", (0.0, 1.0))[0], parts.get("conversions", (0.0, 1.0))[0]
        parts["conversion_rate"] = (won, news)
    return days


def _severity(deviation: float) -> Severity | None:
    return next((name for limit, name in SEVERITIES if abs(deviation) > limit), None)


def _value(watched: Watched, num: float, den: float) -> float | None:
    return round(num / den * watched.scale, 1) if den else None  # a count's denominator is 1 (a day)


def judge(watched: Watched, day: date, current: tuple[float, float], pooled: tuple[float, float]) -> dict:
    """One metric's numbers on the day against its baseline, and whether they make an anomaly."""
    now, base = _value(watched, *current), _value(watched, *pooled)
    found = {"metric": watched.name, "date": day.isoformat(), "current": now, "baseline": base, "deviation": None,
             "severity": None, "direction": None, "bad": None, "flagged": False, "reason": None,
             "sample": current[1] if watched.ratio else current[0],
             "baseline_sample": pooled[1] if watched.ratio else pooled[0]}  # fmt: skip
    if watched.ratio and min(current[1], pooled[1]) < MIN_SAMPLE:
        return {**found, "reason": f"fewer than {MIN_SAMPLE} observations"}
    if now is None or base is None:
        return {**found, "reason": "no baseline"}
    direction = "up" if now > base else "down"
    if base == 0:
        if watched.ratio or now < MIN_FROM_ZERO:
            return {**found, "reason": "baseline is 0"}
        return {**found, "severity": "high", "direction": direction, "bad": direction == watched.bad_when,
                "flagged": True}  # fmt: skip
    deviation = round((now - base) / abs(base) * 100, 1)
    if now == base:
        return {**found, "deviation": deviation}
    severity = _severity(deviation)
    return {**found, "deviation": deviation, "severity": severity, "direction": direction,
            "bad": direction == watched.bad_when, "flagged": severity is not None}  # fmt: skip


def _baseline_days(ctx: MetricsContext, day: date) -> list[date]:
    earlier = [day - timedelta(weeks=week) for week in range(1, WEEKS + 1)]
    return [past for past in earlier if not ctx.calendar.is_closed_day(past)]


def check_metrics(session: Session, ctx: MetricsContext, day: date) -> dict:
    """Every watched metric on `day` against its baseline, the closed-day rule applied."""
    window = ctx.with_period(Period(day - timedelta(weeks=WEEKS), day, ctx.period.zone))
    days, closed, baseline = daily_parts(session, window), ctx.calendar.is_closed_day(day), _baseline_days(ctx, day)
    checked = []
    for watched in WATCHED:
        nothing = (0.0, 0.0) if watched.ratio else (0.0, 1.0)  # no feedback is no NPS; no leads are 0 leads
        current = days[day].get(watched.name, nothing)
        parts = [days[past].get(watched.name, nothing) for past in baseline]
        pooled = (sum(p[0] for p in parts), sum(p[1] for p in parts)) if parts else (0.0, 0.0)
        if not watched.ratio and parts:
            pooled = (pooled[0] / len(parts), 1.0)
        result = judge(watched, day, current, pooled)
        checked.append({**result, "flagged": False, "reason": "the clinic was closed"} if closed else result)
    return {"date": day.isoformat(), "closed_day": closed, "baseline_days": [d.isoformat() for d in baseline],
            "checked": checked}  # fmt: skip


def _flagged(checked: list[dict]) -> list[dict]:
    keys = AnomalyOut.model_fields.keys()
    return [{key: item[key] for key in keys} for item in checked if item["flagged"]]


def find_anomalies(session: Session, ctx: MetricsContext, day: date) -> list[dict]:
    """The anomalies of `day` in `ctx`'s scope and zone (for the API and for a job that notifies the ADMINs)."""
    return _flagged(check_metrics(session, ctx, day)["checked"])


def anomaly_context(session: Session, actor: Principal, query: AnomaliesQuery) -> MetricsContext:
    """The request's context narrowed to the one day it checks."""
    ctx = metrics_context(session, actor, query)
    day = anomaly_day(query, ctx)
    return ctx.with_period(Period(day, day, ctx.period.zone))


def anomaly_report(session: Session, ctx: MetricsContext) -> dict:
    """The anomalies of the context's (one-day) period, with every metric checked."""
    report = check_metrics(session, ctx, ctx.period.last_day)
    return {**report, "anomalies": _flagged(report["checked"])}
