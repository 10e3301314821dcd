"""Leads: conversion, funnel, sources, retention, maturity and abandonment (cards 129, 131, 135, 137, 151, 152).

The period's leads are those created in it (`created_at` on the zone's wall clock), soft-deleted ones left out; a
USER's are the leads assigned to her. A lead is *converted* when `converted_at` is set (it reached SCHEDULED), and
*qualified* when it reached INTERESTED or beyond: its status is INTERESTED, READY or SCHEDULED, it is converted, or
its edit history (the triggers record every status change) shows it held one of those before, as a lead LOST after
INTERESTED does. A rate is a percentage with one decimal (half up), null when nothing is behind it.

- `conversion-rate`: total_leads, converted, conversion_rate = converted / total_leads x 100; by_status counts the
  leads by their status now, all six.
- `funnel`: conversations started (`conversations.created_at` in the period; a USER's: assigned to her) -> leads
  created -> qualified -> converted. dropoff = (previous stage - this one) / previous stage x 100 (0 for the first;
  negative when more leads were created than conversations started, MANUAL ones having none);
  conversion_from_start = this stage / the first x 100.
- `leads-by-source`: every source, busiest first (ties in the enum's order): count, converted, conversion_rate.
- `lead-retention`: a lead *returns* when its patient came back at least 24 hours after their first message
  ("voltou a falar conosco depois do primeiro dia"): a wait of its conversation (shared/metrics/models.py: a patient's
  message after one of ours, or their first) started 24 h or more after the first wait, whenever that was. Writing
  again before we answered continues the same wait and is no return; a lead without a conversation never returns.
  retention_rate = returning_leads / total_leads x 100; cohorts per ISO week ("2026-W45") of the lead's `created_at`
  in the zone, every week touching the period, newest first as the card shows.
- `maturity-distribution`: leads per maturity_score range 0-20, 21-40, 41-60, 61-80, 81-100; their average (one
  decimal) and n.
- `abandonment-rate`: total_conversations = conversations (a USER's: assigned to her) in which a wait started in
  the period (the patient wrote to us: a first message, or one after ours). One is *abandoned* when it is not CLOSED
  (now) and we answered the latest of those waits more than 72 hours before the cutoff (the period's end, or as_of
  if the period includes today), the patient not having written since: we had the last word and they went silent
  for over 72 h. A wait still open, or answered after the cutoff, means the patient was waiting for us. by_stage
  counts the abandoned ones by their lead's status now, in pt-BR ("Sem lead": no live lead);
  common_abandonment_stage is the largest, ties to the earlier stage, null if none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.leads.models import LeadSource, LeadStatus
from shared.metrics.answers import Kpi, KpiMetaOut, MetaOut
from shared.metrics.context import MetricsContext

STAGE_NAMES = {"NEW": "Novo", "ENGAGED": "Engajado", "INTERESTED": "Interessado", "READY": "Pronto",
               "SCHEDULED": "Agendado", "LOST": "Perdido", None: "Sem lead"}  # fmt: skip
MATURITY_RANGES = ("0-20", "21-40", "41-60", "61-80", "81-100")
ABANDONED_AFTER = timedelta(hours=72)


def percent(part: float, whole: float) -> float | None:
    """part / whole x 100 with one decimal, half up as by hand; null when whole is 0."""
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP))


@dataclass
class Tally:
    leads: int = 0
    converted: int = 0
    qualified: int = 0
    returning: int = 0

    def add(self, other: Tally) -> Tally:
        return Tally(self.leads + other.leads, self.converted + other.converted, self.qualified + other.qualified,
                     self.returning + other.returning)  # fmt: skip


_TALLY = """
SELECT l.source::text, l.status::text, count(*), count(l.converted_at),
       count(*) FILTER (WHERE l.converted_at IS NOT NULL OR l.status IN ('INTERESTED', 'READY', 'SCHEDULED')
           OR EXISTS (SELECT 1 FROM edit_history h WHERE h.entity_type = 'lead' AND h.entity_id = l.id
                      AND h.field = 'status' AND h.old_value #>> '{{}}' IN ('INTERESTED', 'READY', 'SCHEDULED')))
FROM leads l WHERE l.created_at >= :start AND l.created_at < :end AND {scope} GROUP BY 1, 2
"""
# A wait opens at a patient's first message and at each one after ours, so the first wait starts at the first
# message; one probe of the conversation's few waits.
_RETURNING = """
SELECT l.source::text, to_char(l.created_at AT TIME ZONE :zone, 'IYYY-"W"IW'), count(*), count(*) FILTER (WHERE r.back)
FROM leads l LEFT JOIN LATERAL (
    SELECT max(w.started_at) - min(w.started_at) >= interval '24 hours' AS back
    FROM response_waits w WHERE w.conversation_id = l.conversation_id
) r ON TRUE
WHERE l.created_at >= :start AND l.created_at < :end AND {scope} GROUP BY 1, 2
"""
_MATURITY = """
SELECT greatest(l.maturity_score - 1, 0) / 20, count(*), sum(l.maturity_score)
FROM leads l WHERE l.created_at >= :start AND l.created_at < :end AND {scope} GROUP BY 1
"""
_STARTED = "SELECT count(*) FROM conversations c WHERE c.created_at >= :start AND c.created_at < :end AND {scope}"
# Waits in a conversation never overlap, so the latest wait ended before :stale exactly when all of them did.
_ABANDONMENT = """
WITH talked AS (
    SELECT w.conversation_id, bool_and(coalesce(w.ended_at < :stale, false)) AS silent
    FROM response_waits w WHERE w.started_at >= :start AND w.started_at < :end GROUP BY 1
)
SELECT l.status::text, count(*), count(*) FILTER (WHERE t.silent AND c.status <> 'CLOSED')
FROM talked t JOIN conversations c ON c.id = t.conversation_id
LEFT JOIN leads l ON l.conversation_id = c.id AND l.deleted_at IS NULL
WHERE {scope} GROUP BY 1
"""
_CONVERTED = """
SELECT count(*) FROM leads l
WHERE l.created_at >= :start AND l.created_at < :end AND l.converted_at IS NOT NULL AND {scope}
"""


def lead_tallies(session: Session, ctx: MetricsContext) -> dict[tuple[str, str], Tally]:
    """The period's leads, converted and qualified per (source, status)."""
    rows = session.execute(text(_TALLY.format(scope=ctx.lead_scope("l"))), ctx.bounds()).all()
    return {(source, status): Tally(leads, converted, qualified) for source, status, leads, converted, qualified
            in rows}  # fmt: skip


def returning_tallies(session: Session, ctx: MetricsContext) -> dict[tuple[str, str], Tally]:
    """The period's leads and returning leads per (source, ISO week of creation)."""
    rows = session.execute(text(_RETURNING.format(scope=ctx.lead_scope("l"))), ctx.bounds()).all()
    return {(source, week): Tally(leads=leads, returning=back) for source, week, leads, back in rows}


def total(tallies: dict[tuple[str, str], Tally], source: str | None = None, key: str | None = None) -> Tally:
    """The sum of the tallies, optionally of one source or one second key (status or week)."""
    found = Tally()
    for (row_source, row_key), tally in tallies.items():
        if source in (None, row_source) and key in (None, row_key):
            found = found.add(tally)
    return found


def converted_leads(session: Session, ctx: MetricsContext) -> int:
    """The period's leads with converted_at set: conversion-rate's `converted` in one count."""
    return session.scalar(text(_CONVERTED.format(scope=ctx.lead_scope("l"))), ctx.bounds()) or 0


def conversion(session: Session, ctx: MetricsContext) -> Kpi:
    """Leads created in the period, how many converted, and their status now (card 129)."""
    tallies = lead_tallies(session, ctx)
    leads = total(tallies)
    by_status = {status.value: total(tallies, key=status.value).leads for status in LeadStatus}
    figures = {"total_leads": leads.leads, "converted": leads.converted,
               "conversion_rate": percent(leads.converted, leads.leads)}  # fmt: skip
    return Kpi(figures, leads.leads, {"by_status": by_status})


def funnel(session: Session, ctx: MetricsContext) -> dict:
    """Conversations started -> leads created -> qualified -> converted, with the drop-off at each step (card 131)."""
    started = session.scalar(text(_STARTED.format(scope=ctx.conversation_scope("c"))), ctx.bounds()) or 0
    leads = total(lead_tallies(session, ctx))
    steps = (("Primeira Mensagem", "conversations", started), ("Lead Criado", "leads", leads.leads),
             ("Qualificado", "qualified", leads.qualified), ("Convertido", "converted", leads.converted))  # fmt: skip
    stages, previous = [], None
    for stage, key, count in steps:
        dropoff = 0.0 if previous is None else percent(previous - count, previous)
        stages.append({"stage": stage, "key": key, "count": count, "dropoff": dropoff,
                       "conversion_from_start": percent(count, started)})  # fmt: skip
        previous = count
    return {"funnel": stages}


def leads_by_source(session: Session, ctx: MetricsContext) -> dict:
    """Every source's leads, conversions and conversion rate, busiest first (card 135)."""
    tallies = lead_tallies(session, ctx)
    sources = []
    for source in LeadSource:
        found = total(tallies, source=source.value)
        sources.append({"source": source.value, "count": found.leads, "converted": found.converted,
                        "conversion_rate": percent(found.converted, found.leads)})  # fmt: skip
    sources.sort(key=lambda item: -item["count"])  # stable: ties keep the enum's order
    return {"sources": sources, "total": total(tallies).leads}


def _weeks(ctx: MetricsContext) -> list[str]:
    """Every ISO week touching the period, newest first."""
    weeks = dict.fromkeys(f"{day.isocalendar().year}-W{day.isocalendar().week:02d}" for day in ctx.period.each_day())
    return list(reversed(weeks))


def retention(session: Session, ctx: MetricsContext) -> Kpi:
    """Leads whose patient came back a day or more after their first message, overall and per week (card 137)."""
    tallies = returning_tallies(session, ctx)
    leads = total(tallies)
    cohorts = []
    for week in _weeks(ctx):
        found = total(tallies, key=week)
        cohorts.append({"week": week, "leads": found.leads, "returning": found.returning,
                        "retention": percent(found.returning, found.leads)})  # fmt: skip
    figures = {"total_leads": leads.leads, "returning_leads": leads.returning,
               "retention_rate": percent(leads.returning, leads.leads)}  # fmt: skip
    return Kpi(figures, leads.leads, {"cohorts": cohorts})


def maturity_distribution(session: Session, ctx: MetricsContext) -> dict:
    """The period's leads per maturity range, and their average score (card 151)."""
    rows = session.execute(text(_MATURITY.format(scope=ctx.lead_scope("l"))), ctx.bounds()).all()
    counts, scores = defaultdict(int), 0
    for bucket, count, score_sum in rows:
        counts[int(bucket)] += count
        scores += int(score_sum)
    n = sum(counts.values())
    average = float((Decimal(scores) / n).quantize(Decimal("0.1"), ROUND_HALF_UP)) if n else None
    return {"distribution": [{"range": label, "count": counts[index]} for index, label in enumerate(MATURITY_RANGES)],
            "average": average, "n": n}  # fmt: skip


def abandonment(session: Session, ctx: MetricsContext) -> Kpi:
    """Conversations whose patient went silent for over 72 h after our answer, and where they stopped (card 152)."""
    cutoff = min(ctx.period.end, ctx.now)
    params = {**ctx.bounds(), "stale": cutoff - ABANDONED_AFTER}
    rows = session.execute(text(_ABANDONMENT.format(scope=ctx.conversation_scope("c"))), params).all()
    by_stage = dict.fromkeys(STAGE_NAMES.values(), 0)
    for status, _, abandoned in rows:
        by_stage[STAGE_NAMES[status]] += abandoned
    conversations, abandoned = sum(row[1] for row in rows), sum(by_stage.values())
    common = max(by_stage, key=by_stage.__getitem__) if abandoned else None  # max keeps the first of a tie
    return Kpi({"total_conversations": conversations, "abandoned": abandoned,
                "abandonment_rate": percent(abandoned, conversations)}, conversations,
               {"common_abandonment_stage": common, "by_stage": by_stage})  # fmt: skip


class ConversionOut(KpiMetaOut):
    total_leads: int = Field(description="leads created in the period, deleted ones left out", examples=[100])
    converted: int = Field(description="of those, the ones with converted_at set", examples=[18])
    conversion_rate: float | None = Field(description="converted / total_leads x 100", examples=[18.0])
    by_status: dict[str, int] = Field(description="the leads by their status now, all six",
                                      examples=[{"NEW": 30, "ENGAGED": 10, "INTERESTED": 10, "READY": 5,
                                                 "SCHEDULED": 18, "LOST": 27}])  # fmt: skip


class FunnelStageOut(BaseModel):
    stage: str = Field(examples=["Lead Criado"])
    key: str = Field(description="conversations, leads, qualified or converted", examples=["leads"])
    count: int = Field(examples=[450])
    dropoff: float | None = Field(description="% lost from the previous stage (0 for the first)", examples=[10.0])
    conversion_from_start: float | None = Field(description="this stage / the first x 100", examples=[90.0])


class FunnelOut(MetaOut):
    funnel: list[FunnelStageOut]


class SourceOut(BaseModel):
    source: LeadSource = Field(examples=["WHATSAPP"])
    count: int = Field(examples=[456])
    converted: int = Field(examples=[80])
    conversion_rate: float | None = Field(examples=[17.5])


class SourcesOut(MetaOut):
    sources: list[SourceOut] = Field(description="every source, busiest first")
    total: int = Field(examples=[810])


class CohortOut(BaseModel):
    week: str = Field(description="ISO week of the leads' creation in the zone", examples=["2026-W45"])
    leads: int = Field(examples=[40])
    returning: int = Field(examples=[11])
    retention: float | None = Field(examples=[27.5])


class RetentionOut(KpiMetaOut):
    total_leads: int = Field(examples=[500])
    returning_leads: int = Field(description="leads whose patient came back (a new wait) 24 h or more after "
                                 "their first message", examples=[120])  # fmt: skip
    retention_rate: float | None = Field(examples=[24.0])
    cohorts: list[CohortOut] = Field(description="every ISO week touching the period, newest first")


class RangeOut(BaseModel):
    range: str = Field(examples=["41-60"])
    count: int = Field(examples=[200])


class MaturityOut(MetaOut):
    distribution: list[RangeOut]
    average: float | None = Field(description="the leads' average maturity_score", examples=[47.3])
    n: int = Field(description="the leads counted", examples=[500])


class AbandonmentOut(KpiMetaOut):
    total_conversations: int = Field(description="conversations in which the patient wrote to us in the period "
                                     "(a wait started)", examples=[500])  # fmt: skip
    abandoned: int = Field(description="of those, the ones not CLOSED whose patient went silent for over 72 h "
                           "after our answer", examples=[85])  # fmt: skip
    abandonment_rate: float | None = Field(examples=[17.0])
    common_abandonment_stage: str | None = Field(description="the lead status (pt-BR) where most stopped",
                                                 examples=["Interessado"])  # fmt: skip
    by_stage: dict[str, int] = Field(description="the abandoned per lead status (pt-BR), 'Sem lead' included",
                                     examples=[{"Novo": 20, "Engajado": 15, "Interessado": 30, "Pronto": 5,
                                                "Agendado": 0, "Perdido": 5, "Sem lead": 10}])  # fmt: skip
