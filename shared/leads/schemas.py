"""Request and response bodies of the leads endpoints (cards 067, 072-075)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator, model_validator

from shared.conversations.models import ConversationStatus
from shared.leads.models import InteractionType, LeadSource, LeadStatus
from shared.pagination import PageQuery

MAX_DETAILS_CHARS = 10_000
LEAD_ID = Field(description="the lead's id", examples=["5b0e8a52-8c44-4c1e-9d0c-3f1f8f3c2a10"])
USER_ID_EXAMPLE = "0f7d3c1e-2a4b-4c5d-8e9f-1a2b3c4d5e6f"
NOTES = Field(
    default=None, max_length=5000, description="free text about the lead", examples=["Prefere horários de manhã"]
)


def digits_of(value: str) -> str:
    return re.sub(r"\D", "", value)


def _phone_digits(value: str) -> str:
    # Stored as digits only, like the numbers WhatsApp gives us, so that search and de-duplication compare alike.
    digits = digits_of(value)
    if not 10 <= len(digits) <= 15:
        raise ValueError("must have 10 to 15 digits (area code and number, optionally the country code)")
    return digits


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value is not None else None


class LeadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = LEAD_ID
    conversation_id: uuid.UUID | None = Field(description="the WhatsApp conversation it came from, if any")
    name: str | None = Field(examples=["Maria Oliveira"])
    phone_number: str = Field(description="digits only", examples=["5511987654321"])
    email: str | None = Field(examples=["maria@example.com"])
    status: LeadStatus = Field(examples=["INTERESTED"])
    source: LeadSource = Field(examples=["WHATSAPP"])
    maturity_score: int = Field(ge=0, le=100, description="0-100, how close to booking", examples=[65])
    notes: str | None = Field(examples=["Prefere horários de manhã"])
    assigned_to_user_id: uuid.UUID | None = Field(description="the secretary in charge", examples=[USER_ID_EXAMPLE])
    converted_at: datetime | None = Field(description="when it last became SCHEDULED")
    created_at: datetime
    updated_at: datetime


class LeadConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    chat_id: str = Field(examples=["5511987654321@c.us"])
    status: ConversationStatus = Field(examples=["WAITING_SECRETARY"])
    is_urgent: bool = Field(examples=[False])
    last_message_at: datetime | None


class LeadInteractionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    lead_id: uuid.UUID = LEAD_ID
    user_id: uuid.UUID | None = Field(description="who recorded it; null when the system did")
    interaction_type: InteractionType = Field(examples=["NOTE"])
    notes: str | None = Field(examples=["Cliente pediu ligar depois das 14h"])
    details: dict[str, Any] = Field(
        description="STATUS_CHANGE and ASSIGNMENT: `from` and `to`; NOTE made by PATCH: `previous`",
        examples=[{"from": "READY", "to": "SCHEDULED"}],
    )
    created_at: datetime


class LeadDetailOut(LeadOut):
    conversation: LeadConversationOut | None = Field(description="summary of the linked conversation, if any")
    interactions: list[LeadInteractionOut] = Field(description="newest first, at most 100")


class LeadListQuery(PageQuery):
    # No `examples=` here: a query parameter's examples are a map of named examples in OpenAPI, not a list.

    status: list[LeadStatus] | None = Field(
        default=None, description="repeat (`status=NEW&status=READY`) or comma-separate (`status=NEW,READY`)"
    )
    assigned_to: uuid.UUID | None = Field(default=None, description="ADMIN only (a USER may give only her own id)")
    unassigned: bool | None = Field(default=None, description="ADMIN only: true lists the leads nobody holds")
    source: LeadSource | None = None
    min_maturity: int | None = Field(default=None, ge=0, le=100, description="lowest maturity_score, 0-100")
    max_maturity: int | None = Field(default=None, ge=0, le=100, description="highest maturity_score, 0-100")
    search: str | None = Field(
        default=None, min_length=1, max_length=100, description="part of the name or phone number"
    )

    @field_validator("status", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list):
            return [part.strip() for item in items for part in str(item).split(",") if part.strip()]
        return value

    @field_validator("max_maturity")
    @classmethod
    def _range_in_order(cls, value: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("min_maturity")
        if value is not None and low is not None and low > value:
            raise ValueError("must be at least min_maturity")
        return value

    @field_validator("unassigned")
    @classmethod
    def _not_both(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        if value and info.data.get("assigned_to") is not None:
            raise ValueError("cannot be combined with assigned_to")
        return value

    @field_validator("search")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value is not None else None


class LeadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Maria Oliveira"])
    phone_number: str = Field(
        min_length=1, max_length=32, description="any format; stored as digits", examples=["+55 (11) 98765-4321"]
    )
    email: EmailStr | None = Field(default=None, examples=["maria@example.com"])
    source: LeadSource = Field(default=LeadSource.MANUAL, examples=["REFERRAL"])
    maturity_score: int = Field(default=0, ge=0, le=100, examples=[40])
    notes: str | None = NOTES
    assigned_to_user_id: uuid.UUID | None = Field(
        default=None, description="ADMIN only; a USER's lead is always hers", examples=[USER_ID_EXAMPLE]
    )

    _normalize_phone = field_validator("phone_number")(_phone_digits)
    _normalize_email = field_validator("email")(_lower)

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class LeadUpdate(BaseModel):
    """Only the fields sent are changed; `notes`, `email` and `assigned_to_user_id` may be sent as null to clear."""

    model_config = ConfigDict(extra="forbid")

    status: LeadStatus | None = Field(default=None, description="must follow the status machine", examples=["READY"])
    notes: str | None = NOTES
    assigned_to_user_id: uuid.UUID | None = Field(
        default=None, description="ADMIN only; an ACTIVE user, or null to unassign", examples=[USER_ID_EXAMPLE]
    )
    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Maria Oliveira"])
    email: EmailStr | None = Field(default=None, examples=["maria@example.com"])

    _normalize_email = field_validator("email")(_lower)

    # Validators run only on values that were sent (defaults are not validated): so an explicit null is refused
    # here while a missing field means "leave it".
    @field_validator("status")
    @classmethod
    def _status_not_null(cls, value: LeadStatus | None) -> LeadStatus:
        if value is None:
            raise ValueError("must not be null")
        return value

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str | None) -> str:
        if value is None or not value.strip():
            raise ValueError("must not be null or blank")
        return value.strip()

    @field_validator("notes")
    @classmethod
    def _blank_notes_clear(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return value.strip()

    @model_validator(mode="after")
    def _something_to_change(self) -> LeadUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one of: status, notes, assigned_to_user_id, name, email")
        return self


class InteractionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interaction_type: Literal["NOTE", "CALL", "EMAIL"] = Field(
        description="STATUS_CHANGE and ASSIGNMENT are recorded by the system, never posted", examples=["CALL"]
    )
    notes: str = Field(min_length=1, max_length=5000, examples=["Cliente pediu ligar depois das 14h"])
    details: dict[str, Any] = Field(
        default_factory=dict, description="anything structured, e.g. a call's duration", examples=[{"minutes": 4}]
    )

    @field_validator("notes")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("details")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, ensure_ascii=False)) > MAX_DETAILS_CHARS:
            raise ValueError(f"must be at most {MAX_DETAILS_CHARS} characters as JSON")
        return value


class LeadPath(BaseModel):
    lead_id: uuid.UUID = Field(description="the lead's id")


# Card 150: the lead's journey.
JourneyEvent = Literal[
    "first_message",
    "lead_created",
    "status_changed",
    "assigned",
    "interaction",
    "merged",
    "message_received",
    "message_sent",
    "converted",
]


class JourneyQuery(BaseModel):
    limit: int = Field(default=200, ge=1, le=1000, description="at most this many messages, the earliest (max 1000)")


class JourneyStepOut(BaseModel):
    timestamp: datetime
    event: JourneyEvent = Field(examples=["status_changed"])
    details: str | None = Field(examples=["Status: NEW → INTERESTED"])
    actor: Literal["patient", "bot", "secretary", "system"] = Field(description="who did it", examples=["secretary"])
    user_id: uuid.UUID | None = Field(description="the secretary, when one did it", examples=[USER_ID_EXAMPLE])
    user_name: str | None = Field(examples=["Ana Souza"])
    seconds_since_previous: float | None = Field(description="null on the first step", examples=[150.0])


class LeadJourneyOut(BaseModel):
    lead_id: uuid.UUID = LEAD_ID
    started_at: datetime = Field(description="the first step's time")
    total_seconds: float = Field(description="from the first step to the last", examples=[16200.0])
    messages_truncated: bool = Field(description="true when the conversation has more messages than `limit`")
    journey: list[JourneyStepOut] = Field(description="oldest first; includes the history of leads merged into it")


# Card 124: duplicates and merge.
class DuplicateGroupOut(BaseModel):
    phone_key: str = Field(description="the number every lead of the group shares", examples=["551187654321"])
    leads: list[LeadOut] = Field(description="oldest first")


class LeadMerge(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "source_id": "5b0e8a52-8c44-4c1e-9d0c-3f1f8f3c2a10",
                "target_id": "0a4c5e2b-7d1f-4b8e-9c3a-6f2d1e0b9a87",
            }
        },
    )

    source_id: uuid.UUID = Field(description="the lead merged away (soft-deleted afterwards)")
    target_id: uuid.UUID = Field(description="the lead that stays and receives the source's history")

    @model_validator(mode="after")
    def _two_leads(self) -> LeadMerge:
        if self.source_id == self.target_id:
            raise ValueError("source_id and target_id must be different leads")
        return self


class LeadMergeOut(BaseModel):
    lead: LeadOut = Field(description="the target after the merge")
    merged_lead_id: uuid.UUID = Field(description="the source, now deleted, with merged_into_id set")
    moved: dict[str, int] = Field(
        description="rows moved from the source to the target, by table.column",
        examples=[{"lead_interactions.lead_id": 3}],
    )
