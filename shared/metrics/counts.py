"""Messages counted per hour, day or week of the period, in its zone: from the hourly rollup when it answers
exactly (the whole clinic, and a zone whose offset is a whole number of hours throughout the period), otherwise
from the messages themselves (a USER's numbers, or a zone such as Asia/Kolkata).

A message counts in the bucket of its `created_at` read on the zone's wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.metrics.context import MetricsContext

Granularity = Literal["hour", "day", "week"]


@dataclass(frozen=True)
class Counts:
    patient: int = 0  # INBOUND
    bot: int = 0
    secretary: int = 0

    @property
    def ours(self) -> int:  # OUTBOUND
        return self.bot + self.secretary

    @property
    def total(self) -> int:
        return self.patient + self.ours


def rollup_answers(ctx: MetricsContext) -> bool:
    """Whether the hourly rollup gives this context's numbers exactly."""
    if ctx.user_id is not None:
        return False
    zone, day = ctx.period.zone, ctx.period.start - timedelta(days=1)
    while day <= ctx.period.end + timedelta(days=1):
        offset = day.astimezone(zone).utcoffset() or timedelta(0)
        if offset.total_seconds() % 3600:
            return False
        day += timedelta(hours=12)
    return True


_FROM_ROLLUP = """
SELECT date_trunc(:unit, h.hour AT TIME ZONE :zone) AS bucket, sum(h.patient_messages), sum(h.bot_messages),
       sum(h.secretary_messages)
FROM metric_message_hourly h WHERE h.hour >= :start AND h.hour < :end GROUP BY 1
"""
_FROM_MESSAGES = """
SELECT date_trunc(:unit, m.created_at AT TIME ZONE :zone) AS bucket,
       count(*) FILTER (WHERE m.sender_kind = 'PATIENT'), count(*) FILTER (WHERE m.sender_kind = 'BOT'),
       count(*) FILTER (WHERE m.sender_kind = 'SECRETARY')
FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
WHERE m.created_at >= :start AND m.created_at < :end AND {scope} GROUP BY 1
"""


def message_counts(session: Session, ctx: MetricsContext, unit: Granularity) -> dict[datetime, Counts]:
    """Counts per bucket start (a naive wall-clock datetime in the zone); buckets without messages are absent."""
    sql = _FROM_ROLLUP if rollup_answers(ctx) else _FROM_MESSAGES.format(scope=ctx.conversation_scope("c"))
    rows = session.execute(text(sql), {**ctx.bounds(), "unit": unit}).all()
    return {bucket: Counts(int(patient), int(bot), int(secretary)) for bucket, patient, bot, secretary in rows}


def bucket_starts(ctx: MetricsContext, unit: Granularity) -> list[datetime]:
    """Every bucket of the period, zeros included, as naive wall-clock datetimes."""
    first = datetime.combine(ctx.period.first_day, datetime.min.time())
    end = datetime.combine(ctx.period.last_day + timedelta(days=1), datetime.min.time())
    if unit == "week":
        first -= timedelta(days=first.weekday())
    step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}[unit]
    starts, at = [], first
    while at < end:
        starts.append(at)
        at += step
    return starts


def total_counts(session: Session, ctx: MetricsContext) -> Counts:
    """The period's counts in one figure."""
    found = message_counts(session, ctx, "day").values()
    return Counts(sum(c.patient for c in found), sum(c.bot for c in found), sum(c.secretary for c in found))
