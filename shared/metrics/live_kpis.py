"""Today's numbers on the live dashboard (card 145), cheap enough to tick once a second per client.

"Today" is the calendar day of now in the clinic's zone (or `tz`), from its midnight to now. For the scope (the
clinic, or one secretary's conversations and leads, assigned to her now):
- `patient_messages_today`: patients' messages whose `created_at` falls today (the hourly rollup for the whole
  clinic in a whole-hour zone, else the messages themselves, as every message count);
- `new_leads_today`: leads created today, soft-deleted ones excluded;
- `conversions_today`: leads whose `converted_at` (the moment they reached SCHEDULED) falls today, excluded as above;
- `waiting_conversations`: conversations waiting for a secretary now (WAITING_SECRETARY), whenever they started.
These are running counts of one day, not a period's KPI: they carry no previous period.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.clinic.service import get_clinic_settings
from shared.metrics.context import MetricsContext
from shared.metrics.counts import total_counts
from shared.metrics.period import Period


class LiveKpisOut(BaseModel):
    date: str = Field(description="today, in the zone", examples=["2026-11-30"])
    tz: str = Field(examples=["America/Sao_Paulo"])
    user_id: str | None = Field(description="whose numbers; null for the whole clinic", examples=[None])
    as_of: str = Field(examples=["2026-11-30T15:00:00+00:00"])
    patient_messages_today: int = Field(examples=[184])
    new_leads_today: int = Field(examples=[12])
    conversions_today: int = Field(examples=[3])
    waiting_conversations: int = Field(examples=[4])


_LEADS_AND_WAITING = """
SELECT
  (SELECT count(*) FROM leads l WHERE l.created_at >= :start AND l.created_at < :end AND {leads}),
  (SELECT count(*) FROM leads l WHERE l.converted_at >= :start AND l.converted_at < :end AND {leads}),
  (SELECT count(*) FROM conversations c WHERE c.status = 'WAITING_SECRETARY' AND {conversations})
"""


def today_context(session: Session, user_id: uuid.UUID | None, tz: str | None, now: datetime) -> MetricsContext:
    """The metrics context of today in the zone, for the scope."""
    settings = get_clinic_settings(session)
    zone = ZoneInfo(tz or settings.timezone)
    today = now.astimezone(zone).date()
    return MetricsContext(Period(today, today, zone), user_id, settings, now)


def live_kpis(session: Session, user_id: uuid.UUID | None, tz: str | None = None, now: datetime | None = None) -> dict:
    """Today's numbers for the scope `user_id` (None: the whole clinic)."""
    ctx = today_context(session, user_id, tz, now or datetime.now(UTC))
    sql = _LEADS_AND_WAITING.format(leads=ctx.lead_scope("l"), conversations=ctx.conversation_scope("c"))
    new_leads, conversions, waiting = session.execute(text(sql), ctx.bounds()).one()
    return LiveKpisOut(
        date=ctx.period.first_day.isoformat(), tz=ctx.period.zone_name, user_id=str(user_id) if user_id else None,
        as_of=ctx.now.isoformat(), patient_messages_today=total_counts(session, ctx).patient,
        new_leads_today=new_leads, conversions_today=conversions, waiting_conversations=waiting,
    ).model_dump()  # fmt: skip
