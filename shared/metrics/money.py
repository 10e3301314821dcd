"""Money: cost per lead, the bot's ROI and a lead's lifetime value (cards 136, 144, 154). ADMIN only.

The inputs are the clinic settings' monthly_operational_cost, implementation_cost, avg_transaction_value and
secretary_hourly_cost; a query parameter under the card's name overrides one for that request. Amounts have two
decimals (half up), percentages one; a "month" is 30 days.

- `cost-per-lead`: operational_cost = the monthly cost prorated to the period: monthly x days / 30 (the whole
  monthly cost for the default 30 days). leads_converted = conversion-rate's `converted` (leads created in the
  period with converted_at set). cost_per_lead = operational_cost / leads_converted, null when none converted.
  previous_month_cost_per_lead is the same over the previous period of equal length; improvement_percent =
  (previous - current) / previous x 100, positive when a converted lead got cheaper.
- `roi`: bot_answers = waits the bot answered (`response_waits`, responder BOT, started in the period; a
  secretary's: in conversations assigned to her). hours_saved = bot_answers x minutes_per_answer / 60, where
  minutes_per_answer (query, default 2) is what a secretary would have spent on each answer; period_savings =
  hours_saved x secretary_hourly_cost; monthly_savings = period_savings x 30 / days. roi_percent = (period_savings -
  period_operational_cost) / period_operational_cost x 100, the running cost prorated as above: the running return,
  as the card's example computes it ((8000 - 2000) / 2000 = 300 %). The one-off implementation cost is left to
  payback_months = implementation_cost / (monthly_savings - monthly_operational_cost), null when the savings never
  exceed the running cost (the card's 6.25 divides by gross savings; the savings must pay the running cost first).
- `ltv`: the card's formula, literally: ltv = avg_transaction_value x conversion_rate x retention_rate, the rates
  as fractions 0-1 (three decimals shown; the ltv uses the exact ratios) from conversion-rate and lead-retention:
  what one new lead is worth in patients who book and come back. by_source is the same per lead source.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.clinic.schemas import Money
from shared.leads.models import LeadSource
from shared.metrics.answers import Kpi, KpiMetaOut
from shared.metrics.context import MetricsContext
from shared.metrics.leads import Tally, converted_leads, lead_tallies, percent, returning_tallies, total
from shared.metrics.period import MetricsQuery

MONTH_DAYS = 30
CENTS = Decimal("0.01")
# The whole clinic's waits need no conversation: the join is made only for one secretary's.
_BOT_ANSWERS = """
SELECT count(*) FROM response_waits w {join}
WHERE w.started_at >= :start AND w.started_at < :end AND w.responder = 'BOT' AND {scope}
"""


_JOIN = "JOIN conversations c ON c.id = w.conversation_id"


class CostPerLeadQuery(MetricsQuery):
    operational_cost: Money | None = Field(default=None, description="monthly operational cost (default: the "
                                           "clinic settings' monthly_operational_cost)")  # fmt: skip


class RoiQuery(MetricsQuery):
    implementation_cost: Money | None = Field(default=None, description="default: the clinic settings'")
    monthly_operational_cost: Money | None = Field(default=None, description="default: the clinic settings'")
    secretary_hourly_cost: Money | None = Field(default=None, description="default: the clinic settings'")
    minutes_per_answer: float = Field(default=2, gt=0, le=240, description="a secretary's minutes per answer "
                                      "the bot gave in her place", json_schema_extra={"example": 2})  # fmt: skip


class LtvQuery(MetricsQuery):
    avg_transaction_value: Money | None = Field(default=None, description="default: the clinic settings'")


def _amount(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(CENTS, ROUND_HALF_UP))


def _fraction(part: int, whole: int) -> float | None:
    return None if not whole else float((Decimal(part) / Decimal(whole)).quantize(Decimal("0.001"), ROUND_HALF_UP))


def prorated(monthly: Decimal, ctx: MetricsContext) -> Decimal:
    """A monthly amount over the period's days, in cents."""
    return (monthly * ctx.period.days / MONTH_DAYS).quantize(CENTS, ROUND_HALF_UP)


def _cost_per_lead(ctx: MetricsContext, monthly: Decimal, converted: int) -> tuple[Decimal, Decimal | None]:
    cost = prorated(monthly, ctx)
    return cost, (cost / converted).quantize(CENTS, ROUND_HALF_UP) if converted else None


def cost_per_lead(session: Session, ctx: MetricsContext, query: CostPerLeadQuery) -> Kpi:
    """The period's operational cost over its converted leads, against the previous period's (card 136)."""
    monthly = ctx.settings.monthly_operational_cost if query.operational_cost is None else query.operational_cost
    converted, before = converted_leads(session, ctx), converted_leads(session, ctx.previous())
    cost, per_lead = _cost_per_lead(ctx, monthly, converted)
    _, previous = _cost_per_lead(ctx.previous(), monthly, before)
    improvement = None if per_lead is None or not previous else percent(previous - per_lead, previous)
    return Kpi({"leads_converted": converted, "cost_per_lead": _amount(per_lead)}, converted,
               {"operational_cost": _amount(cost), "monthly_operational_cost": _amount(monthly),
                "previous_month_cost_per_lead": _amount(previous), "improvement_percent": improvement})  # fmt: skip


def _setting(override: Decimal | None, stored: Decimal) -> Decimal:
    return stored if override is None else override


def roi(session: Session, ctx: MetricsContext, query: RoiQuery) -> Kpi:
    """What the bot's answers saved in secretary time, against what the bot costs (card 144)."""
    implementation = _setting(query.implementation_cost, ctx.settings.implementation_cost)
    monthly_cost = _setting(query.monthly_operational_cost, ctx.settings.monthly_operational_cost)
    hourly = _setting(query.secretary_hourly_cost, ctx.settings.secretary_hourly_cost)
    sql = _BOT_ANSWERS.format(join=_JOIN if ctx.user_id else "", scope=ctx.conversation_scope("c"))
    answers = session.scalar(text(sql), ctx.bounds()) or 0
    hours = Decimal(answers) * Decimal(str(query.minutes_per_answer)) / 60
    savings = hours * hourly
    monthly_savings = savings * MONTH_DAYS / ctx.period.days
    period_cost = prorated(monthly_cost, ctx)
    net = monthly_savings - monthly_cost
    payback = (implementation / net).quantize(CENTS, ROUND_HALF_UP) if net > 0 else None
    return Kpi({"monthly_savings": _amount(monthly_savings), "roi_percent": percent(savings - period_cost, period_cost),
                "payback_months": _amount(payback), "bot_answers": answers, "hours_saved": _amount(hours),
                "period_savings": _amount(savings)}, answers,
               {"implementation_cost": _amount(implementation), "monthly_operational_cost": _amount(monthly_cost),
                "secretary_hourly_cost": _amount(hourly), "minutes_per_answer": query.minutes_per_answer,
                "period_operational_cost": _amount(period_cost)})  # fmt: skip


def _ltv(value: Decimal, tally: Tally) -> dict:
    ltv = None if not tally.leads else value * tally.converted * tally.returning / (tally.leads * tally.leads)
    return {"conversion_rate": _fraction(tally.converted, tally.leads),
            "retention_rate": _fraction(tally.returning, tally.leads), "ltv": _amount(ltv)}  # fmt: skip


def ltv(session: Session, ctx: MetricsContext, query: LtvQuery) -> Kpi:
    """A lead's value by the card's formula: average ticket x conversion x retention, overall and per source (154)."""
    value = _setting(query.avg_transaction_value, ctx.settings.avg_transaction_value)
    converted, returning = lead_tallies(session, ctx), returning_tallies(session, ctx)

    def of(source: str | None) -> Tally:
        leads = total(converted, source=source)
        return Tally(leads.leads, leads.converted, returning=total(returning, source=source).returning)

    overall = of(None)
    by_source = [{"source": source.value, "leads": of(source.value).leads, **_ltv(value, of(source.value))}
                 for source in LeadSource]  # fmt: skip
    return Kpi(_ltv(value, overall), overall.leads,
               {"avg_transaction_value": _amount(value), "by_source": by_source})  # fmt: skip


class CostPerLeadOut(KpiMetaOut):
    operational_cost: float = Field(description="the monthly cost x days / 30", examples=[5000.0])
    monthly_operational_cost: float = Field(examples=[5000.0])
    leads_converted: int = Field(examples=[90])
    cost_per_lead: float | None = Field(description="null when no lead converted", examples=[55.56])
    previous_month_cost_per_lead: float | None = Field(description="the previous period's", examples=[62.5])
    improvement_percent: float | None = Field(description="positive when cheaper than before", examples=[11.1])


class RoiOut(KpiMetaOut):
    implementation_cost: float = Field(examples=[50000.0])
    monthly_operational_cost: float = Field(examples=[2000.0])
    monthly_savings: float = Field(description="secretary time the bot saved, in money, per 30 days",
                                   examples=[8000.0])  # fmt: skip
    roi_percent: float | None = Field(description="(savings - running cost) / running cost x 100 over the period",
                                      examples=[300.0])  # fmt: skip
    payback_months: float | None = Field(description="implementation cost / (monthly savings - monthly cost); "
                                         "null if it never pays back", examples=[8.33])  # fmt: skip
    bot_answers: int = Field(description="waits the bot answered in the period", examples=[4800])
    hours_saved: float = Field(examples=[160.0])
    period_savings: float = Field(examples=[8000.0])
    period_operational_cost: float = Field(examples=[2000.0])
    secretary_hourly_cost: float = Field(examples=[50.0])
    minutes_per_answer: float = Field(examples=[2.0])


class SourceLtvOut(BaseModel):
    source: LeadSource = Field(examples=["WHATSAPP"])
    leads: int = Field(examples=[300])
    conversion_rate: float | None = Field(description="a fraction 0-1", examples=[0.2])
    retention_rate: float | None = Field(description="a fraction 0-1", examples=[0.6])
    ltv: float | None = Field(examples=[60.0])


class LtvOut(KpiMetaOut):
    avg_transaction_value: float = Field(examples=[500.0])
    conversion_rate: float | None = Field(description="a fraction 0-1", examples=[0.18])
    retention_rate: float | None = Field(description="a fraction 0-1", examples=[0.65])
    ltv: float | None = Field(description="avg_transaction_value x conversion_rate x retention_rate",
                              examples=[58.5])  # fmt: skip
    by_source: list[SourceLtvOut] = Field(description="every lead source")
