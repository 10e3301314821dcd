"""The period every metric covers: dates in the clinic's zone (or `tz`), both included, and the one before it.

`start_date`..`end_date` are calendar days on the wall clock of the zone; the period runs from the start of the
first day to the start of the day after the last, so a message at 23:59 on the last day counts and one at 00:00
the next day does not, whatever the UTC offset. The previous period is the same number of days just before.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.clinic.schemas import check_timezone
from shared.errors import FieldError, ValidationFailed

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366


_SCHEMAS: dict[tuple, dict[str, Any]] = {}


class SchemaOnce:
    """A query model whose JSON schema is built once per class and arguments: flask-openapi3 reads the query
    model's schema on every request (to tell list parameters from single ones), and pydantic builds it anew each
    time, ~0.5 ms of a cached answer's ~7. A copy is returned, so a caller may change it."""

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        key = (cls, args, tuple(sorted(kwargs.items())))
        if key not in _SCHEMAS:
            _SCHEMAS[key] = super().model_json_schema(*args, **kwargs)  # type: ignore[misc]
        return copy.deepcopy(_SCHEMAS[key])


class MetricsQuery(SchemaOnce, BaseModel):
    """The parameters every metric takes. (Query examples are `example`: flask-openapi3 wants a map in `examples`.)"""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(default=None, description="first day, in the clinic's zone (default: 29 days "
                                    "before end_date)", json_schema_extra={"example": "2026-11-01"})  # fmt: skip
    end_date: date | None = Field(default=None, description="last day, included (default: today)",
                                  json_schema_extra={"example": "2026-11-30"})  # fmt: skip
    tz: str | None = Field(default=None, description="IANA zone the days are read in (default: the clinic's); "
                           "a bare offset such as -03:00 is refused",
                           json_schema_extra={"example": "America/Manaus"})  # fmt: skip
    user_id: uuid.UUID | None = Field(default=None, description="ADMIN: one secretary's numbers; a USER may name "
                                      "only herself")  # fmt: skip

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @model_validator(mode="after")
    def _ordered(self) -> MetricsQuery:
        if self.start_date and self.end_date:
            if self.end_date < self.start_date:
                raise ValueError("end_date is before start_date")
            if (self.end_date - self.start_date).days + 1 > MAX_DAYS:
                raise ValueError(f"a period covers at most {MAX_DAYS} days")
        return self


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date
    zone: ZoneInfo

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: the start of the day after the last."""
        return datetime.combine(self.last_day + timedelta(days=1), time(0), self.zone).astimezone(UTC)

    @property
    def zone_name(self) -> str:
        return self.zone.key

    def previous(self) -> Period:
        return Period(self.first_day - timedelta(days=self.days), self.first_day - timedelta(days=1), self.zone)

    def each_day(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.days)]

    def label(self) -> str:
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"

    def includes_today(self, now: datetime | None = None) -> bool:
        return self.end > (now or datetime.now(UTC))


def resolve_period(query: MetricsQuery, clinic_zone: str, now: datetime | None = None) -> Period:
    """The query's days, defaulting to the 30 days that end today in the zone."""
    zone = ZoneInfo(query.tz or clinic_zone)
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    last = query.end_date or max(today, query.start_date or today)
    first = query.start_date or last - timedelta(days=DEFAULT_DAYS - 1)
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed([FieldError("start_date", f"a period covers at most {MAX_DAYS} days")])
    return Period(first, last, zone)
