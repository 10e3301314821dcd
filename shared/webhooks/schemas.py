"""Outbound webhooks in and out of the API (card 113)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.pagination import PageQuery
from shared.webhooks.events import SUBSCRIBABLE, SubscribableEvent
from shared.webhooks.models import DESCRIPTION_MAX, URL_MAX, DeliveryStatus

URL = Field(max_length=URL_MAX, description="http(s) URL that receives the POSTs (https only in production)")
EVENTS = Field(min_length=1, max_length=20, description=f"events to receive: {', '.join(SUBSCRIBABLE)}")
DESCRIPTION = Field(default=None, max_length=DESCRIPTION_MAX, description="what this endpoint is for")
EXAMPLE = {
    "url": "https://crm.example.com/hooks/clinicbot",
    "events": ["lead.created", "conversation.closed"],
    "description": "CRM da clínica",
}


def _checked_url(value: str | None) -> str | None:
    if value is None:
        return None
    if any(char.isspace() or ord(char) < 32 for char in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number or out of range
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    return value


def _description(value: str | None) -> str | None:
    # Postgres refuses NUL in text: a 500 at INSERT time without this check.
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return (value.strip() or None) if value is not None else None


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": EXAMPLE})

    url: str = URL
    events: list[SubscribableEvent] = EVENTS
    description: str | None = DESCRIPTION
    is_active: bool = True

    _url = field_validator("url")(_checked_url)
    _description = field_validator("description")(_description)

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"events": ["lead.created"]}})

    url: str | None = Field(default=None, max_length=URL_MAX, description="a new URL")
    events: list[SubscribableEvent] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = DESCRIPTION
    is_active: bool | None = Field(default=None, description="false stops every delivery to it")

    _url = field_validator("url")(_checked_url)
    _description = field_validator("description")(_description)

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        return sorted(set(value)) if value is not None else None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> WebhookUpdate:
        for name in ("url", "events", "is_active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str = Field(examples=[EXAMPLE["url"]])
    events: list[str] = Field(examples=[EXAMPLE["events"]])
    description: str | None
    is_active: bool
    created_by_user_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class WebhookSecretOut(WebhookOut):
    secret: str = Field(description="the signing key: shown only now; keep it, it cannot be read again")


class WebhookListQuery(PageQuery):
    is_active: bool | None = None


class WebhookPath(BaseModel):
    webhook_id: uuid.UUID


class DeliveryPath(BaseModel):
    delivery_id: uuid.UUID


class AttemptOut(BaseModel):
    number: int
    attempted_at: datetime
    status_code: int | None = Field(description="the receiver's HTTP status; null when it could not be reached")
    duration_ms: int
    error: str | None = Field(description="why it failed: the start of the answer, or the connection error")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="sent as X-Clinicbot-Delivery")
    endpoint_id: uuid.UUID
    event: str = Field(examples=["lead.created"])
    event_id: uuid.UUID = Field(description="the body's `id`, the same for every endpoint")
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    payload: dict[str, Any] = Field(description="the JSON body sent")
    attempts: list[AttemptOut]
    created_at: datetime


class DeliveryQuery(PageQuery):
    status: DeliveryStatus | None = None
    event: str | None = Field(default=None, max_length=64, pattern=r"^[a-z_.]+$")
