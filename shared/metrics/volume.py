"""Message volume, the weekly heatmap and peak hours (cards 128, 132, 146).

- `message-volume`: messages of both directions per hour, day or week (`direction` narrows to INBOUND, the
  patients', or OUTBOUND, ours: bot and secretaries), every bucket of the period present, zeros included. A week
  is ISO's (Monday first) and is dated by its Monday, so the first and last weeks may reach outside the period;
  only the period's messages count in them.
- `heatmap`: patients' messages per weekday and hour of the day, all 7 x 24 cells, zeros included.
- `peak-hours`: patients' messages per hour of the day (optionally on one weekday); the top 3, busiest first,
  ties to the earlier hour, and all 24 hours.
All count a message at its `created_at` on the zone's wall clock.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shared.clinic.schemas import WEEKDAYS
from shared.conversations.models import MessageDirection
from shared.metrics.answers import MetaOut
from shared.metrics.context import MetricsContext
from shared.metrics.counts import Counts, Granularity, bucket_starts, message_counts
from shared.metrics.period import MetricsQuery

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class VolumeQuery(MetricsQuery):
    granularity: Granularity = Field(default="day", description="hour, day or week (ISO, dated by its Monday)")
    direction: MessageDirection | None = Field(default=None, description="INBOUND (patients) or OUTBOUND (ours)")


class PeakHoursQuery(MetricsQuery):
    weekday: Weekday | None = Field(default=None, description="only this weekday's messages")


class VolumePointOut(BaseModel):
    date: str = Field(description="the bucket's start on the zone's wall clock: YYYY-MM-DD, or YYYY-MM-DDTHH:00 "
                      "by the hour", examples=["2026-11-15"])  # fmt: skip
    count: int = Field(examples=[234])
    inbound: int = Field(examples=[130])
    outbound: int = Field(examples=[104])


class VolumeOut(MetaOut):
    granularity: Granularity = Field(examples=["day"])
    direction: MessageDirection | None = Field(examples=[None])
    total: int = Field(description="the sum of `count`", examples=[423])
    data: list[VolumePointOut]


class HeatCellOut(BaseModel):
    day: Weekday = Field(examples=["monday"])
    hour: int = Field(ge=0, le=23, examples=[14])
    count: int = Field(examples=[45])


class HeatmapOut(MetaOut):
    heatmap: list[HeatCellOut] = Field(description="7 x 24 cells, Monday 00h first")
    max_count: int = Field(description="the busiest cell's count, for the colour scale", examples=[45])


class HourCountOut(BaseModel):
    hour: int = Field(ge=0, le=23, examples=[14])
    count: int = Field(examples=[340])


class PeakHoursOut(MetaOut):
    weekday: Weekday | None = Field(examples=[None])
    peak_hours: list[HourCountOut] = Field(description="the 3 busiest hours, busiest first")
    hours: list[HourCountOut] = Field(description="all 24 hours of the day")


def _count(counts: Counts, direction: MessageDirection | None) -> int:
    if direction is MessageDirection.INBOUND:
        return counts.patient
    if direction is MessageDirection.OUTBOUND:
        return counts.ours
    return counts.total


def message_volume(session: Session, ctx: MetricsContext, query: VolumeQuery) -> dict:
    found = message_counts(session, ctx, query.granularity)
    fmt = "%Y-%m-%dT%H:00" if query.granularity == "hour" else "%Y-%m-%d"
    data = []
    for start in bucket_starts(ctx, query.granularity):
        counts = found.get(start, Counts())
        data.append({"date": start.strftime(fmt), "count": _count(counts, query.direction),
                     "inbound": counts.patient, "outbound": counts.ours})  # fmt: skip
    return {"granularity": query.granularity, "direction": query.direction, "total": sum(p["count"] for p in data),
            "data": data}  # fmt: skip


def patient_cells(session: Session, ctx: MetricsContext) -> dict[tuple[int, int], int]:
    """Patients' messages per (weekday 0 = Monday, hour)."""
    cells: dict[tuple[int, int], int] = {}
    for start, counts in message_counts(session, ctx, "hour").items():
        cells[(start.weekday(), start.hour)] = cells.get((start.weekday(), start.hour), 0) + counts.patient
    return cells


def heatmap(session: Session, ctx: MetricsContext) -> dict:
    cells = patient_cells(session, ctx)
    grid = [{"day": WEEKDAYS[day], "hour": hour, "count": cells.get((day, hour), 0)}
            for day in range(7) for hour in range(24)]  # fmt: skip
    return {"heatmap": grid, "max_count": max(cell["count"] for cell in grid)}


def peak_hours(session: Session, ctx: MetricsContext, query: PeakHoursQuery) -> dict:
    cells = patient_cells(session, ctx)
    wanted = None if query.weekday is None else WEEKDAYS.index(query.weekday)
    hours = [{"hour": hour, "count": sum(n for (day, h), n in cells.items() if h == hour and wanted in (None, day))}
             for hour in range(24)]  # fmt: skip
    top = sorted(hours, key=lambda item: (-item["count"], item["hour"]))[:3]
    return {"weekday": query.weekday, "peak_hours": top, "hours": hours}
