"""Two periods side by side (card 140): the same figures over each, the change and whether it is an improvement.

The periods are any two spans of days in the zone (both ends included, each at most the metrics' maximum), in the
same scope. The figures keep their own modules' definitions:
- `leads`, `converted`, `conversion_rate` (a percentage): shared/metrics/leads.py's conversion;
- `patient_messages`: patients' messages (shared/metrics/counts.py);
- `avg_response_time_seconds` and `sla_compliance_rate` (the share of answered waits within the SLA, elapsed
  time): shared/metrics/response.py's;
- `nps`: shared/metrics/quality.py's.
`deltas` = (period2 - period1) / |period1| x 100, one decimal, null when period1's is 0 or missing. `better` says
whether period2 improves on period1: true or false, null when equal or missing; every figure is better higher but
response time, better lower.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.clinic.schemas import check_timezone
from shared.metrics import leads, quality, response
from shared.metrics.answers import Number, cached, delta_pct, room_to_sort
from shared.metrics.context import MetricsContext, metrics_context
from shared.metrics.counts import total_counts
from shared.metrics.period import MAX_DAYS, MetricsQuery, Period, SchemaOnce

LOWER_IS_BETTER = {"avg_response_time_seconds"}


class CompareQuery(SchemaOnce, BaseModel):
    model_config = ConfigDict(extra="forbid")

    period1_start: date = Field(description="first day of the first period",
                                json_schema_extra={"example": "2026-10-01"})  # fmt: skip
    period1_end: date = Field(description="its last day, included", json_schema_extra={"example": "2026-10-31"})
    period2_start: date = Field(description="first day of the second period",
                                json_schema_extra={"example": "2026-11-01"})  # fmt: skip
    period2_end: date = Field(description="its last day, included", json_schema_extra={"example": "2026-11-30"})
    tz: str | None = Field(default=None, description="IANA zone the days are read in (default: the clinic's)",
                           json_schema_extra={"example": "America/Manaus"})  # fmt: skip
    user_id: uuid.UUID | None = Field(default=None, description="ADMIN: one secretary's numbers; a USER may name "
                                      "only herself")  # fmt: skip

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @model_validator(mode="after")
    def _spans(self) -> CompareQuery:
        for name, first, last in (("period1", self.period1_start, self.period1_end),
                                  ("period2", self.period2_start, self.period2_end)):  # fmt: skip
            if last < first:
                raise ValueError(f"{name}_end is before {name}_start")
            if (last - first).days + 1 > MAX_DAYS:
                raise ValueError(f"a period covers at most {MAX_DAYS} days")
        return self


def figures(session: Session, ctx: MetricsContext) -> dict[str, Number]:
    """The compared figures over the context's period."""
    conversion = leads.conversion(session, ctx).figures
    waits = response.wait_stats(session, ctx, measure=response.COUNTS)
    return {"leads": conversion["total_leads"], "converted": conversion["converted"],
            "conversion_rate": conversion["conversion_rate"], "patient_messages": total_counts(session, ctx).patient,
            "avg_response_time_seconds": waits.wall.figures()["avg_seconds"],
            "sla_compliance_rate": response.percent(waits.within_sla, waits.wall.n),
            "nps": quality.nps(session, ctx).figures["nps"]}  # fmt: skip


def is_better(name: str, first: Number, second: Number) -> bool | None:
    if first is None or second is None or first == second:
        return None
    return (second < first) if name in LOWER_IS_BETTER else (second > first)


def _span(ctx: MetricsContext) -> dict[str, str]:
    return {"period": ctx.period.label(), "start_date": ctx.period.first_day.isoformat(),
            "end_date": ctx.period.last_day.isoformat()}  # fmt: skip


def comparison(session: Session, first: MetricsContext, second: MetricsContext) -> dict[str, Any]:
    room_to_sort(session)
    one, two = figures(session, first), figures(session, second)
    return {"period1": {**_span(first), **one}, "period2": {**_span(second), **two},
            "deltas": {name: delta_pct(two[name], one[name]) for name in one},
            "better": {name: is_better(name, one[name], two[name]) for name in one},
            "tz": first.period.zone_name, "user_id": str(first.user_id) if first.user_id else None,
            "as_of": first.now.isoformat()}  # fmt: skip


def compare_answer(session: Session, actor: Principal, query: CompareQuery) -> dict[str, Any]:
    """The comparison in the caller's scope, cached like every metric (by the later period's freshness)."""
    first_query = MetricsQuery(start_date=query.period1_start, end_date=query.period1_end, tz=query.tz,
                               user_id=query.user_id)  # fmt: skip
    first = metrics_context(session, actor, first_query)
    second = first.with_period(Period(query.period2_start, query.period2_end, first.period.zone))
    later = max(first, second, key=lambda ctx: ctx.period.end)
    return cached("compare", later, query.model_dump(mode="json"), lambda: comparison(session, first, second))


class PeriodFiguresOut(BaseModel):
    period: str = Field(examples=["2026-11-01 to 2026-11-30"])
    start_date: str = Field(examples=["2026-11-01"])
    end_date: str = Field(examples=["2026-11-30"])
    leads: int = Field(examples=[120])
    converted: int = Field(examples=[22])
    conversion_rate: float | None = Field(description="a percentage, one decimal", examples=[18.3])
    patient_messages: int = Field(examples=[2400])
    avg_response_time_seconds: float | None = Field(examples=[140.0])
    sla_compliance_rate: float | None = Field(description="% of answered waits within the SLA", examples=[85.0])
    nps: float | None = Field(examples=[40.0])


class CompareOut(BaseModel):
    period1: PeriodFiguresOut
    period2: PeriodFiguresOut
    deltas: dict[str, float | None] = Field(description="(period2 - period1) / |period1| x 100, one decimal",
                                            examples=[{"leads": 20.0}])  # fmt: skip
    better: dict[str, bool | None] = Field(description="whether period2 improves on period1; null when equal",
                                           examples=[{"leads": True, "avg_response_time_seconds": False}])  # fmt: skip
    tz: str = Field(examples=["America/Sao_Paulo"])
    user_id: str | None = Field(examples=[None])
    as_of: str = Field(examples=["2026-11-30T15:00:00+00:00"])
