"""The dashboard's summary (card 126): the cards of the clinic, or of one secretary, in one answer.

Compared with the previous period:
- `active_conversations`: conversations in the scope whose status is not CLOSED now and that had a message (either
  side) in the period.
- `conversion_rate`: the period's converted leads / its leads as a fraction 0-1 (the card's 0.18), four decimals,
  null without leads; the counts are shared/metrics/leads.py's (`conversion-rate` gives it as a percentage).
- `avg_response_time_seconds`: shared/metrics/response.py's `avg_seconds`: the mean answered wait of the period;
  `n` counts those waits.
- `patient_messages`: patients' messages of the period in the scope.
- `nps`: shared/metrics/quality.py's NPS of the period's feedback.
Now, not compared:
- `new_leads_today`: live leads in the scope created today: the day of `as_of` in the zone, whatever the period.
- `waiting_secretary`: conversations in the scope in WAITING_SECRETARY now.
- `urgent_open`: conversations in the scope marked urgent and not CLOSED now.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from pydantic import Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.metrics import leads, quality, response
from shared.metrics.answers import Kpi, KpiMetaOut
from shared.metrics.context import MetricsContext
from shared.metrics.counts import total_counts

_ACTIVE = """
SELECT count(*) FROM conversations c
WHERE c.status <> 'CLOSED' AND {scope} AND EXISTS (
    SELECT 1 FROM conversation_messages m
    WHERE m.conversation_id = c.id AND m.created_at >= :start AND m.created_at < :end)
"""
_NOW = """
SELECT (SELECT count(*) FROM conversations c WHERE c.status = 'WAITING_SECRETARY' AND {scope}) AS waiting,
       (SELECT count(*) FROM conversations c WHERE c.is_urgent IS TRUE AND c.status <> 'CLOSED' AND {scope}) AS urgent,
       (SELECT count(*) FROM leads l WHERE {lead_scope} AND l.created_at >= :today AND l.created_at < :tomorrow)
       AS new_leads
"""


def fraction(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _now_figures(session: Session, ctx: MetricsContext) -> dict[str, int]:
    zone = ctx.period.zone
    today = ctx.now.astimezone(zone).date()
    params = {**ctx.bounds(), "today": datetime.combine(today, time(0), zone),
              "tomorrow": datetime.combine(today + timedelta(days=1), time(0), zone)}  # fmt: skip
    sql = _NOW.format(scope=ctx.conversation_scope("c"), lead_scope=ctx.lead_scope("l"))
    row = session.execute(text(sql), params).one()
    return {"new_leads_today": row.new_leads, "waiting_secretary": row.waiting, "urgent_open": row.urgent}


def summary(session: Session, ctx: MetricsContext) -> Kpi:
    """The dashboard's cards over the context's period and scope."""
    conversion = leads.conversion(session, ctx).figures
    waits = response.wait_stats(session, ctx, measure=response.COUNTS).wall
    active = session.execute(text(_ACTIVE.format(scope=ctx.conversation_scope("c"))), ctx.bounds()).scalar_one()
    figures = {"active_conversations": active,
               "conversion_rate": fraction(conversion["converted"], conversion["total_leads"]),
               "avg_response_time_seconds": waits.figures()["avg_seconds"],
               "patient_messages": total_counts(session, ctx).patient,
               "nps": quality.nps(session, ctx).figures["nps"]}  # fmt: skip
    return Kpi(figures, waits.n, _now_figures(session, ctx))


class SummaryOut(KpiMetaOut):
    active_conversations: int = Field(description="not CLOSED, with a message in the period", examples=[45])
    new_leads_today: int = Field(description="created today (as_of's day in the zone)", examples=[12])
    conversion_rate: float | None = Field(description="converted / leads of the period, a fraction 0-1",
                                          examples=[0.18])  # fmt: skip
    avg_response_time_seconds: float | None = Field(description="mean answered wait; n counts them",
                                                    examples=[145.0])  # fmt: skip
    patient_messages: int = Field(examples=[1200])
    waiting_secretary: int = Field(description="in WAITING_SECRETARY now", examples=[3])
    urgent_open: int = Field(description="urgent and not CLOSED now", examples=[1])
    nps: float | None = Field(description="% promoters - % detractors of the period's feedback", examples=[42.9])
