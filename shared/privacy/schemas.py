"""Bodies of the LGPD endpoints: everything stored about one contact, and what an erasure removed."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.whatsapp.phone import normalize_phone

_ORM = ConfigDict(from_attributes=True)


class ContactPath(BaseModel):
    phone: str = Field(
        max_length=40,
        description="the contact's number, any formatting; with or without Brazil's ninth digit",
        json_schema_extra={"example": "5511987654321"},  # a path parameter's `examples` must be a map
    )

    @field_validator("phone")
    @classmethod
    def _has_a_number(cls, value: str) -> str:
        if not 8 <= len(normalize_phone(value)) <= 15:
            raise ValueError("a phone number has 8 to 15 digits")
        return value


class MessageExport(BaseModel):
    model_config = _ORM

    id: uuid.UUID
    direction: str = Field(examples=["INBOUND"])
    sender_kind: str = Field(examples=["PATIENT"])
    kind: str = Field(examples=["TEXT"])
    body: str | None = Field(examples=["Oi, quero marcar uma consulta"])
    from_phone: str | None
    to_phone: str | None
    media_url: str | None
    media_mimetype: str | None
    media_filename: str | None
    latitude: Decimal | None
    longitude: Decimal | None
    location_name: str | None
    location_address: str | None
    patient_reaction: str | None
    message_timestamp: datetime | None
    created_at: datetime


class ContextExport(BaseModel):
    model_config = _ORM

    patient_name: str | None = Field(examples=["Maria"])
    symptoms: list[Any]
    concerns: list[Any]
    preferences: dict[str, Any]
    facts: dict[str, Any] = Field(description="facts the assistant gathered", examples=[{"age": 34}])
    intent_type: str | None
    updated_at: datetime


class MemoryEntryExport(BaseModel):
    id: str = Field(description="the entry's id in the conversation memory")
    text: str | None = Field(description="what was remembered, in the patient's or the bot's words")
    role: str | None = Field(examples=["patient"])


class FeedbackExport(BaseModel):
    model_config = _ORM

    score: int = Field(examples=[9])
    comment: str | None
    created_at: datetime


class ConversationExport(BaseModel):
    model_config = _ORM

    id: uuid.UUID
    chat_id: str = Field(examples=["5511987654321@c.us"])
    phone_number: str | None
    name: str | None
    status: str
    is_urgent: bool
    urgency_reason: str | None
    opted_out_at: datetime | None
    last_message_at: datetime | None
    created_at: datetime
    messages: list[MessageExport]
    context: ContextExport | None
    memory: list[MemoryEntryExport] = Field(default_factory=list, description="conversation-memory entries")
    feedback: list[FeedbackExport] = Field(default_factory=list)


class InteractionExport(BaseModel):
    model_config = _ORM

    id: uuid.UUID
    interaction_type: str = Field(examples=["NOTE"])
    notes: str | None
    details: dict[str, Any]
    created_at: datetime


class LeadExport(BaseModel):
    model_config = _ORM

    id: uuid.UUID
    conversation_id: uuid.UUID | None
    name: str | None
    phone_number: str
    email: str | None
    status: str
    source: str
    notes: str | None
    created_at: datetime
    deleted_at: datetime | None
    interactions: list[InteractionExport] = Field(default_factory=list)


class NotificationExport(BaseModel):
    model_config = _ORM

    id: uuid.UUID
    type: str
    title: str
    message: str
    conversation_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    created_at: datetime


class ScheduledMessageExport(BaseModel):
    model_config = _ORM

    id: uuid.UUID
    conversation_id: uuid.UUID | None
    phone: str
    content: str
    scheduled_at: datetime
    status: str
    sent_at: datetime | None
    created_at: datetime


class LLMInteractionExport(BaseModel):
    model_config = _ORM

    id: uuid.UUID
    conversation_id: uuid.UUID | None
    model_name: str
    prompt_version: str
    prompt: str | None = Field(description="may contain the patient's words")
    response: str | None
    created_at: datetime


class ContactExport(BaseModel):
    phone: str = Field(
        description="the number as digits, with the ninth digit if it has one", examples=["5511987654321"]
    )
    phone_variants: list[str] = Field(description="the spellings searched (Brazil's ninth digit)")
    exported_at: datetime
    conversations: list[ConversationExport]
    leads: list[LeadExport]
    notifications: list[NotificationExport]
    scheduled_messages: list[ScheduledMessageExport]
    llm_interactions: list[LLMInteractionExport]
    memory_error: str | None = Field(
        default=None, description="set when the conversation memory could not be read; the rest is complete"
    )


class ErasureCounts(BaseModel):
    conversations: int = Field(examples=[1])
    messages: int = Field(examples=[42])
    contexts: int = Field(examples=[1])
    leads: int = Field(examples=[1])
    lead_interactions: int = Field(examples=[3])
    notifications: int = Field(examples=[2])
    scheduled_messages: int = Field(examples=[0])
    llm_interactions: int = Field(examples=[12])
    feedback: int = Field(examples=[1])
    memory_entries: int = Field(description="conversation-memory vectors erased", examples=[20])


class ErasureOut(BaseModel):
    erased: ErasureCounts
    memory_errors: list[str] = Field(
        default_factory=list,
        description="conversation ids whose memory could not be erased (the database rows are gone; retry later)",
    )
