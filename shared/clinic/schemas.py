"""The clinic settings' API shapes, validated so that a bad value never reaches the metrics or the scheduler."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
DEFAULT_HOURS: dict[str, list[list[str]]] = {
    **{day: [["08:00", "12:00"], ["13:00", "18:00"]] for day in WEEKDAYS[:5]},
    "saturday": [["08:00", "12:00"]],
    "sunday": [],
}
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, examples=["5000.00"])]


def check_timezone(name: str) -> str:
    """An IANA zone name ("America/Sao_Paulo"); a bare offset such as "-03:00" names no rules for summer time."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*", name or ""):
        raise ValueError("must be an IANA time zone name such as America/Sao_Paulo, not an offset")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc
    if name not in available_timezones() and name != "UTC":
        raise ValueError(f"unknown IANA time zone {name!r}")
    return name


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Closure(BaseModel):
    """A day or run of days the clinic is closed (holidays aside): both dates included."""

    model_config = ConfigDict(extra="forbid")
    start: date = Field(examples=["2026-12-24"])
    end: date | None = Field(default=None, description="the last closed day; the start alone when omitted",
                             examples=["2026-12-31"])  # fmt: skip
    reason: str | None = Field(default=None, max_length=200, examples=["Recesso de fim de ano"])

    @model_validator(mode="after")
    def _ordered(self) -> Closure:
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self

    @property
    def last(self) -> date:
        return self.end or self.start


class ClinicSettingsFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str | None = Field(default=None, description="IANA zone every metric and job is computed in",
                                 examples=["America/Sao_Paulo"])  # fmt: skip
    business_hours: dict[str, list[list[str]]] | None = Field(
        default=None,
        description='per weekday, intervals ["HH:MM", "HH:MM"] (24:00 ends a day); [] is closed',
        examples=[DEFAULT_HOURS],
    )
    holiday_subdivision: str | None = Field(
        default=None,
        description="Brazilian state (UF) whose holidays apply besides the national ones; empty for national only",
        examples=["SP"],
    )
    closures: list[Closure] | None = Field(default=None, max_length=500)
    sla_seconds: int | None = Field(default=None, gt=0, le=7 * 86400, description="response-time SLA",
                                    examples=[300])  # fmt: skip
    competitors: list[str] | None = Field(default=None, max_length=100, examples=[["Clínica Sorriso", "DermaMais"]])
    monthly_operational_cost: Money | None = None
    implementation_cost: Money | None = None
    avg_transaction_value: Money | None = None
    secretary_hourly_cost: Money | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("holiday_subdivision")
    @classmethod
    def _state(cls, value: str | None) -> str | None:
        import holidays

        if value is None or value == "":
            return value
        code = value.strip().upper()
        if code not in holidays.Brazil.subdivisions:
            raise ValueError(f"not a Brazilian state code (UF): {value!r}")
        return code

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: dict[str, list[list[str]]] | None) -> dict[str, list[list[str]]] | None:
        if value is None:
            return None
        unknown = sorted(set(value) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday(s) {', '.join(unknown)}; use {', '.join(WEEKDAYS)}")
        hours = {day: sorted(value.get(day, []), key=lambda pair: pair[0] if pair else "") for day in WEEKDAYS}
        for day, intervals in hours.items():
            previous_end = -1
            for interval in intervals:
                if len(interval) != 2 or not all(_CLOCK.match(str(clock)) for clock in interval):
                    raise ValueError(f"{day}: each interval is two times HH:MM, got {interval!r}")
                start, end = (_minutes(clock) for clock in interval)
                if start >= end:
                    raise ValueError(f"{day}: {interval[0]} is not before {interval[1]}")
                if start < previous_end:
                    raise ValueError(f"{day}: intervals overlap at {interval[0]}")
                previous_end = end
        return hours

    @field_validator("competitors")
    @classmethod
    def _names(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        names: list[str] = []
        for name in value:
            cleaned = " ".join(name.split())
            if not cleaned or len(cleaned) > 100:
                raise ValueError("a competitor's name has 1 to 100 characters")
            if cleaned.casefold() not in {known.casefold() for known in names}:
                names.append(cleaned)
        return names


class ClinicSettingsUpdate(ClinicSettingsFields):
    """PUT: the fields sent replace the stored ones; fields left out keep their value."""


class ClinicSettingsOut(BaseModel):
    timezone: str = Field(examples=["America/Sao_Paulo"])
    business_hours: dict[str, list[list[str]]] = Field(examples=[DEFAULT_HOURS])
    holiday_country: str = Field(examples=["BR"])
    holiday_subdivision: str | None = Field(examples=["SP"])
    closures: list[Closure]
    sla_seconds: int = Field(examples=[300])
    competitors: list[str] = Field(examples=[["Clínica Sorriso"]])
    monthly_operational_cost: Decimal = Field(examples=["5000.00"])
    implementation_cost: Decimal = Field(examples=["20000.00"])
    avg_transaction_value: Decimal = Field(examples=["350.00"])
    secretary_hourly_cost: Decimal = Field(examples=["25.00"])
    updated_at: datetime = Field(examples=["2026-12-03T12:00:00Z"])
