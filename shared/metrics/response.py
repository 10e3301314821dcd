"""Response time, SLA compliance and the bot's share of answers (cards 130, 138, 133), all measured on waits.

A wait starts at a patient's message whose previous message in that conversation is ours, or none (so a burst of
patient messages is one wait, from its first); it ends at our next message, the bot's or a secretary's, who is its
responder. It belongs to the day it started: its `started_at` is in the period, wherever it ended. `response_waits`
holds exactly these waits (kept by triggers, shared/metrics/models.py). A wait with no end yet is unanswered:
counted apart and left out of every duration. `responder=bot|human` (human: a secretary) keeps the waits answered
by that kind, and the unanswered ones (no kind answered them). A USER's waits are those of her conversations.

- `response-time`: `avg_seconds`, `median_seconds`, `p95_seconds` (`percentile_cont`, interpolated) of the
  answered waits' durations, `ended_at - started_at`; `n` is how many. `first_response`: the same over each
  conversation's first wait. `unanswered`: the waits without an end. `business_hours`: the same figures of each
  wait's business time, the part of it when the clinic is open on its calendar (hours in the clinic's zone,
  holidays and closures shut; shared/clinic/calendar.py).
- `sla-compliance`: `total_responses` answered waits, `within_sla` those answered in at most `sla_target_seconds`
  (the clinic settings' `sla_seconds`), `compliance_rate` = within / total x 100; `business_hours` the same in
  business time; `breached_unanswered`: unanswered waits already older than the SLA at `as_of`.
- `bot-response-rate`: `bot_resolved` answered waits the bot answered, `transferred` those a secretary answered,
  `bot_response_rate` = bot_resolved / (bot_resolved + transferred) x 100; `total_messages` the patients' messages
  sent in the period; `unanswered` as above.
Seconds have one decimal, percentages one decimal; both are null when nothing was measured.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.clinic.calendar import BusinessClock
from shared.metrics.answers import Kpi, KpiMetaOut
from shared.metrics.context import MetricsContext
from shared.metrics.counts import total_counts
from shared.metrics.period import MetricsQuery

Responder = Literal["bot", "human"]
RESPONDER_KIND = {"bot": "BOT", "human": "SECRETARY"}

# Open seconds before instant `at`, as BusinessClock._elapsed counts them: its interval `i` (width_bucket's binary
# search over the opening instants, 0 before the first) adds what elapsed of it to the seconds of those before it.
# date_part rather than extract: extract's numeric arithmetic costs several times more per wait.
_ELAPSED = ("CASE WHEN {i} = 0 THEN 0 ELSE k.before[{i}] "
            "+ date_part('epoch', least({at}, k.closes[{i}]) - k.opens[{i}]) END")  # fmt: skip
# `measured` computes each wait's business time once: its subqueries are fenced by OFFSET 0 (left inlined, each
# reference to `ei`, `si` or `business` would compute it again; a CTE would be written out and read back). The
# whole clinic's figures are one aggregate, without the GROUP BY's sort of every wait.
_STATS = """
WITH k AS (
    SELECT CAST(:opens AS timestamptz[]) AS opens, CAST(:closes AS timestamptz[]) AS closes,
           CAST(:before AS float8[]) AS before
)
SELECT {grp}, count(seconds), avg(seconds), {quantiles}, count(seconds) FILTER (WHERE is_first),
       avg(seconds) FILTER (WHERE is_first), {first_quantiles}, avg(business), {business_quantiles},
       count(*) FILTER (WHERE ended_at IS NULL), count(*) FILTER (WHERE seconds <= :sla),
       count(*) FILTER (WHERE business <= :sla), count(*) FILTER (WHERE ended_at IS NULL AND started_at <= :breached),
       count(*) FILTER (WHERE responder = 'BOT'), count(*) FILTER (WHERE responder = 'SECRETARY')
FROM (
    SELECT waits.*, {business} AS business
    FROM (
        SELECT {group} AS grp, w.started_at, w.ended_at, w.responder, w.is_first,
               date_part('epoch', w.ended_at - w.started_at) AS seconds{buckets}
        FROM response_waits w {join} CROSS JOIN k
        WHERE w.started_at >= :start AND w.started_at < :end AND {scope} AND {responder}
        OFFSET 0
    ) waits CROSS JOIN k
    OFFSET 0
) measured {group_by}
"""
_QUANTILES = "percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY {value}){only}"
_BUCKETS = ", width_bucket(w.started_at, k.opens) AS si, width_bucket(w.ended_at, k.opens) AS ei"
_BUSINESS = "CASE WHEN ended_at IS NOT NULL THEN greatest(0, {ended} - {started}) END"


class ResponderQuery(MetricsQuery):
    responder: Responder | None = Field(default=None, description="only waits answered by the bot, or by a "
                                        "secretary (human); unanswered ones stay counted apart")  # fmt: skip


@dataclass(frozen=True)
class Durations:
    n: int = 0
    avg: float | None = None
    median: float | None = None
    p95: float | None = None

    def figures(self) -> dict[str, float | None]:
        return {"avg_seconds": _seconds(self.avg), "median_seconds": _seconds(self.median),
                "p95_seconds": _seconds(self.p95)}  # fmt: skip


@dataclass(frozen=True)
class WaitStats:
    """Everything measured on one set of waits: durations, SLA counts and who answered."""

    wall: Durations = Durations()
    first: Durations = Durations()  # each conversation's first wait
    business: Durations = Durations()  # business time; n as `wall`
    unanswered: int = 0
    within_sla: int = 0
    within_sla_business: int = 0
    breached_unanswered: int = 0
    by_bot: int = 0
    by_secretary: int = 0


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole * 100, 1)


def _clock_params(ctx: MetricsContext) -> dict[str, object]:
    """The open intervals from the period's start until every wait it opened can have ended (none ends later
    than now), with the open seconds before each."""
    clock = BusinessClock(ctx.calendar, ctx.period.start, max(ctx.period.end, ctx.now) + timedelta(days=1))
    return {"opens": clock.starts, "closes": [closes for _, closes in clock.intervals], "before": clock.before}


def _responder_condition(responder: Responder | None) -> str:
    return "TRUE" if responder is None else "(w.responder IS NULL OR w.responder = CAST(:responder AS sender_kind))"


def _durations(n: int, avg: float | None, quantiles: list[float] | None) -> Durations:
    median, p95 = quantiles or (None, None)
    return Durations(int(n), avg, median, p95)


def _stats(row) -> WaitStats:
    (_, n, avg, quantiles, first_n, first_avg, first_quantiles, business_avg, business_quantiles, unanswered,
     within, within_business, breached, by_bot, by_secretary) = row  # fmt: skip
    return WaitStats(_durations(n, avg, quantiles), _durations(first_n, first_avg, first_quantiles),
                     _durations(n, business_avg, business_quantiles), int(unanswered), int(within),
                     int(within_business), int(breached), int(by_bot), int(by_secretary))  # fmt: skip


@dataclass(frozen=True)
class Measure:
    """What a query computes beyond the counts and means: the percentiles, and the business time (each costs
    about as much as the rest of the query). Figures not measured are None."""

    quantiles: bool = True
    business: bool = True


FULL, COUNTS = Measure(), Measure(quantiles=False, business=False)


def _sql(ctx: MetricsContext, responder: Responder | None, group: str, measure: Measure) -> str:
    # The whole clinic's waits need no conversation, so the join (100,000 rows) is made only when it is used.
    join = "JOIN conversations c ON c.id = w.conversation_id" if ctx.user_id or group != "TRUE" else ""
    quantiles = dict.fromkeys(("quantiles", "first_quantiles", "business_quantiles"), "NULL")
    if measure.quantiles:
        first = _QUANTILES.format(value="seconds", only=" FILTER (WHERE is_first)")
        quantiles.update(quantiles=_QUANTILES.format(value="seconds", only=""), first_quantiles=first)
    business, buckets = "NULL::float8", ""
    if measure.business:
        business = _BUSINESS.format(ended=_ELAPSED.format(i="ei", at="ended_at"),
                                    started=_ELAPSED.format(i="si", at="started_at"))  # fmt: skip
        buckets = _BUCKETS
        if measure.quantiles:
            quantiles["business_quantiles"] = _QUANTILES.format(value="business", only="")
    whole = group == "TRUE"
    return _STATS.format(grp="TRUE" if whole else "grp", group_by="" if whole else "GROUP BY grp", group=group,
                         join=join, scope=ctx.conversation_scope("c"), responder=_responder_condition(responder),
                         business=business, buckets=buckets, **quantiles)  # fmt: skip


def _measure(session: Session, ctx: MetricsContext, responder: Responder | None, group: str, measure: Measure) -> list:
    sla = ctx.settings.sla_seconds
    clock = _clock_params(ctx) if measure.business else {"opens": [], "closes": [], "before": []}
    params = {**ctx.bounds(), **clock, "responder": RESPONDER_KIND.get(responder or ""), "sla": sla,
              "breached": ctx.now - timedelta(seconds=sla)}  # fmt: skip
    return session.execute(text(_sql(ctx, responder, group, measure)), params).all()


def wait_stats(
    session: Session, ctx: MetricsContext, responder: Responder | None = None, measure: Measure = FULL
) -> WaitStats:
    """The period's waits in the context's scope, measured in one query (`measure`: all of it by default)."""
    return _stats(_measure(session, ctx, responder, "TRUE", measure)[0])  # one row, even without waits


def wait_stats_by_user(
    session: Session, ctx: MetricsContext, responder: Responder | None = None
) -> dict[uuid.UUID | None, WaitStats]:
    """The same per assignee of the waits' conversations (None: unassigned); users without waits are absent."""
    return {row[0]: _stats(row) for row in _measure(session, ctx, responder, "c.assigned_to_user_id", FULL)}


def wait_stats_by_day(session: Session, ctx: MetricsContext, measure: Measure = FULL) -> dict[date, WaitStats]:
    """The same per day the waits started, in the zone, in one query (days without waits are absent)."""
    day = "(w.started_at AT TIME ZONE :zone)::date"
    return {row[0]: _stats(row) for row in _measure(session, ctx, None, day, measure)}


def response_time(session: Session, ctx: MetricsContext, responder: Responder | None = None) -> Kpi:
    """Average, median and p95 response time, first responses, unanswered waits and the business-hours variant."""
    stats = wait_stats(session, ctx, responder)
    return Kpi(figures={**stats.wall.figures(), "first_response": {**stats.first.figures(), "n": stats.first.n},
                        "unanswered": stats.unanswered, "business_hours": stats.business.figures()},
               n=stats.wall.n, extra={"responder": responder})  # fmt: skip


def sla_compliance(session: Session, ctx: MetricsContext, responder: Responder | None = None) -> Kpi:
    """Answered waits within the clinic's SLA, in elapsed and in business time, and open waits past it."""
    stats = wait_stats(session, ctx, responder, Measure(quantiles=False))
    total = stats.wall.n
    return Kpi(figures={"total_responses": total, "within_sla": stats.within_sla,
                        "compliance_rate": percent(stats.within_sla, total),
                        "business_hours": {"within_sla": stats.within_sla_business,
                                           "compliance_rate": percent(stats.within_sla_business, total)},
                        "breached_unanswered": stats.breached_unanswered},
               n=total, extra={"sla_target_seconds": ctx.settings.sla_seconds, "responder": responder})  # fmt: skip


def bot_response_rate(session: Session, ctx: MetricsContext) -> Kpi:
    """The share of answered waits the bot answered, against those a secretary answered."""
    stats = wait_stats(session, ctx, measure=COUNTS)
    answered = stats.by_bot + stats.by_secretary
    return Kpi(figures={"total_messages": total_counts(session, ctx).patient, "bot_resolved": stats.by_bot,
                        "transferred": stats.by_secretary, "bot_response_rate": percent(stats.by_bot, answered),
                        "unanswered": stats.unanswered}, n=answered)  # fmt: skip


class DurationsOut(BaseModel):
    avg_seconds: float | None = Field(description="null when no wait was answered", examples=[145.0])
    median_seconds: float | None = Field(examples=[120.0])
    p95_seconds: float | None = Field(examples=[300.0])


class FirstResponseOut(DurationsOut):
    n: int = Field(description="conversations' first waits answered", examples=[40])


class ResponseTimeOut(KpiMetaOut, DurationsOut):
    responder: Responder | None = Field(examples=[None])
    first_response: FirstResponseOut = Field(description="each conversation's first wait")
    unanswered: int = Field(description="waits of the period with no answer yet, left out of the figures",
                            examples=[3])  # fmt: skip
    business_hours: DurationsOut = Field(description="the waits' business time: the clinic's open hours only")


class SlaBusinessOut(BaseModel):
    within_sla: int = Field(examples=[900])
    compliance_rate: float | None = Field(examples=[90.0])


class SlaComplianceOut(KpiMetaOut):
    sla_target_seconds: int = Field(description="the clinic settings' sla_seconds", examples=[300])
    responder: Responder | None = Field(examples=[None])
    total_responses: int = Field(description="answered waits", examples=[1000])
    within_sla: int = Field(description="answered in at most sla_target_seconds", examples=[850])
    compliance_rate: float | None = Field(description="within_sla / total_responses x 100", examples=[85.0])
    business_hours: SlaBusinessOut = Field(description="the same, measuring the waits in business time")
    breached_unanswered: int = Field(description="unanswered waits older than the SLA at as_of", examples=[2])


class BotResponseRateOut(KpiMetaOut):
    total_messages: int = Field(description="patients' messages sent in the period", examples=[1000])
    bot_resolved: int = Field(description="answered waits the bot answered", examples=[650])
    transferred: int = Field(description="answered waits a secretary answered", examples=[350])
    bot_response_rate: float | None = Field(description="bot_resolved / (bot_resolved + transferred) x 100",
                                            examples=[65.0])  # fmt: skip
    unanswered: int = Field(description="waits with no answer yet", examples=[4])
