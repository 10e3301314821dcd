"""Request and response bodies of the notifications endpoints (card 099)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.notifications.models import NotificationPriority, NotificationType
from shared.pagination import Page, PageQuery


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: NotificationType = Field(description="what happened", examples=["HANDOFF"])
    priority: NotificationPriority = Field(examples=["HIGH"])
    title: str = Field(examples=["Paciente pediu atendimento humano"])
    message: str = Field(examples=["Maria quer remarcar a consulta de amanhã."])
    conversation_id: uuid.UUID | None = Field(description="the conversation it is about, if any")
    lead_id: uuid.UUID | None = Field(description="the lead it is about, if any")
    read_at: datetime | None = Field(description="when it was marked read; null while unread")
    created_at: datetime = Field(examples=["2026-01-15T13:05:00Z"])


class NotificationQuery(PageQuery):
    unread_only: bool = Field(default=False, description="only the notifications not read yet")
    type: NotificationType | None = Field(
        default=None, description="only this type", json_schema_extra={"example": "NEW_LEAD"}
    )
    priority: NotificationPriority | None = Field(
        default=None, description="only this priority", json_schema_extra={"example": "HIGH"}
    )


class NotificationPage(Page[NotificationOut]):
    unread: int = Field(description="all of the caller's unread notifications, whatever the filters", examples=[3])


class NotificationPath(BaseModel):
    notification_id: uuid.UUID = Field(description="the notification's id")


class ReadAllOut(BaseModel):
    updated: int = Field(description="how many unread notifications were marked read", examples=[3])
