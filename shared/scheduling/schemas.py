"""Scheduled messages in and out of the API (card 120)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.pagination import PageQuery
from shared.scheduling.models import ScheduledStatus


class ScheduledMessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(
        default=None,
        min_length=8,
        max_length=32,
        examples=["5511999999999"],
        description="the patient's number, any formatting; or give conversation_id",
    )
    conversation_id: uuid.UUID | None = Field(default=None, description="send in this conversation instead")
    content: str = Field(min_length=1, max_length=4096, examples=["Lembrete: sua consulta é amanhã às 14h."])
    scheduled_at: AwareDatetime = Field(
        description="when to send, with its time zone", examples=["2026-12-01T14:00:00-03:00"]
    )

    @model_validator(mode="after")
    def _one_recipient(self) -> ScheduledMessageCreate:
        if (self.phone is None) == (self.conversation_id is None):
            raise ValueError("give exactly one of phone or conversation_id")
        return self


class ScheduledMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID = Field(description="who scheduled it")
    conversation_id: uuid.UUID | None
    phone: str = Field(examples=["5511999999999"])
    content: str
    scheduled_at: datetime
    status: ScheduledStatus
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by_user_id: uuid.UUID | None
    created_at: datetime


class ScheduledMessageQuery(PageQuery):
    status: ScheduledStatus | None = None
    user_id: uuid.UUID | None = Field(default=None, description="ADMIN only: whose; a USER always sees her own")
    date_from: AwareDatetime | None = Field(default=None, description="scheduled at or after")
    date_to: AwareDatetime | None = Field(default=None, description="scheduled before")


class ScheduledMessagePath(BaseModel):
    scheduled_id: uuid.UUID
