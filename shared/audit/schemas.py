"""Request and response bodies of the audit log endpoint (card 109), and the date range other reads share."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from ipaddress import IPv4Address, IPv6Address
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.config import get_settings
from shared.pagination import PageQuery

FIRST_YEAR, LAST_YEAR = 1900, 9000
_BARE_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


def _eg(value: str) -> dict[str, str]:
    # flask-openapi3 copies `example` onto a query parameter; `examples` there must be a map, not a list.
    return {"example": value}


class DateRangeQuery(BaseModel):
    """`date_from` <= created_at < `date_to`. A secretary types days in the clinic's calendar, not UTC's, so a
    bare date or a time without an offset is read in the clinic's time zone, and a bare `date_to` keeps its day."""

    date_from: datetime | None = Field(
        default=None,
        description="start, inclusive; a bare date is that day's start (clinic time zone)",
        json_schema_extra=_eg("2026-01-01"),
    )
    date_to: datetime | None = Field(
        default=None,
        description="end, exclusive; a bare date includes that whole day (clinic time zone)",
        json_schema_extra=_eg("2026-01-31T18:00:00-03:00"),
    )

    @field_validator("date_to", mode="before")
    @classmethod
    def _bare_end_date_keeps_its_day(cls, value: Any) -> Any:
        if isinstance(value, str) and _BARE_DATE.match(value):
            try:
                return datetime.fromisoformat(value.strip()) + timedelta(days=1)
            except OverflowError:
                raise ValueError("date out of range") from None
        return value

    @field_validator("date_from", "date_to")
    @classmethod
    def _aware_and_ordered(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None:
            return None
        # Far from both ends of datetime's range, so that shifting to UTC or by a default period never overflows.
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(get_settings().clinic_timezone))
        start = info.data.get("date_from")
        if info.field_name == "date_to" and start is not None and value <= start:
            raise ValueError("date_to must be after date_from")
        return value


class AuditLogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID | None = Field(description="who did it; null for the system (e.g. the bootstrap admin)")
    action: str = Field(examples=["user.updated"])
    entity_type: str = Field(examples=["user"])
    entity_id: str = Field(examples=["6f1c2a9e-3c1b-4a55-9d8e-1b2f3c4d5e6f"])
    old_value: dict[str, Any] | None = Field(description="the record before", examples=[{"status": "ACTIVE"}])
    new_value: dict[str, Any] | None = Field(description="the record after", examples=[{"status": "INACTIVE"}])
    reason: str | None = Field(examples=["pediu desligamento"])
    ip_address: str | None = Field(examples=["203.0.113.7"])
    request_id: str | None = Field(description="the X-Request-ID of the request that did it")
    created_at: datetime = Field(examples=["2026-01-15T13:05:00Z"])

    @field_validator("ip_address", mode="before")
    @classmethod
    def _address_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (IPv4Address, IPv6Address)) else value


class AuditLogQuery(PageQuery, DateRangeQuery):
    user_id: uuid.UUID | None = Field(default=None, description="only what this user did")
    action: str | None = Field(
        default=None, max_length=64, description="exact action", json_schema_extra=_eg("user.updated")
    )
    entity_type: str | None = Field(
        default=None, max_length=64, description="exact type", json_schema_extra=_eg("user")
    )
    entity_id: str | None = Field(
        default=None,
        max_length=64,
        description="exact id of the record (with entity_type)",
        json_schema_extra=_eg("42"),
    )

    @field_validator("action", "entity_type", "entity_id")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        # Postgres refuses NUL in text parameters with an error, which would be a 500 rather than a 422.
        if value is not None and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value
