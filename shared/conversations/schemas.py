"""Request and response bodies of the conversations endpoints (cards 069-071, 102)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from shared.conversations.models import (
    ConversationStatus,
    DeliveryAck,
    MessageDirection,
    MessageKind,
    SenderKind,
)
from shared.conversations.notes_schemas import NoteOut, TagOut
from shared.pagination import PageQuery

DEFAULT_MESSAGES = 50
MAX_MESSAGES = 200
# Far beyond any real listing; it keeps OFFSET inside Postgres' bigint, so a silly page is a 422, not a 500.
IDEMPOTENCY_KEY = r"^[A-Za-z0-9._~+/=-]{1,80}$"  # no ':' - it separates the key from the part number
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,49}$")


def _without_nul(value: Any) -> Any:
    # Postgres refuses NUL in text: without this check such input would fail at INSERT time, a 500.
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _aware(value: datetime | None) -> datetime | None:
    """A time without an offset is read as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class ConversationPath(BaseModel):
    conversation_id: uuid.UUID


class ConversationListQuery(PageQuery):
    status: ConversationStatus | None = Field(default=None, json_schema_extra={"example": "WAITING_SECRETARY"})
    is_urgent: bool | None = None
    assigned_to: uuid.UUID | None = Field(
        default=None, description="user id; a USER only ever sees her own, so another id gives an empty page"
    )
    unassigned: bool | None = Field(default=None, description="true: only conversations nobody has taken")
    tag_id: uuid.UUID | None = Field(default=None, description="only conversations carrying this tag (card 103)")
    date_from: datetime | None = Field(
        default=None,
        description="last message at or after (ISO 8601; no offset means UTC)",
        json_schema_extra={"example": "2026-01-01T00:00:00-03:00"},
    )
    date_to: datetime | None = Field(
        default=None,
        description="last message at or before (inclusive)",
        json_schema_extra={"example": "2026-01-31T23:59:59-03:00"},
    )
    search: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="part of the name or phone number",
        json_schema_extra={"example": "maria"},
    )

    _no_nul = field_validator("search")(_without_nul)
    _utc = field_validator("date_from", "date_to")(_aware)

    @model_validator(mode="after")
    def _dates_in_order(self) -> ConversationListQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to")
        return self


class ConversationDetailQuery(BaseModel):
    messages_limit: int = Field(
        default=DEFAULT_MESSAGES, ge=1, le=MAX_MESSAGES, description="how many of the latest messages (max 200)"
    )


class LastMessageOut(BaseModel):
    preview: str | None = Field(description="the text, cut at ~120 characters; null for media without a caption")
    kind: MessageKind = Field(examples=["TEXT"])
    direction: MessageDirection
    sender_kind: SenderKind
    created_at: datetime


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    chat_id: str = Field(examples=["5511999999999@c.us"])
    phone_number: str | None = Field(examples=["5511999999999"])
    name: str | None = Field(examples=["Maria Silva"])
    status: ConversationStatus = Field(examples=["ACTIVE"])
    is_urgent: bool
    urgency_reason: str | None
    assigned_to_user_id: uuid.UUID | None
    human_takeover_at: datetime | None = Field(description="set while a person leads the chat and the bot is quiet")
    opted_out_at: datetime | None = Field(description="the contact asked for no more messages (LGPD)")
    last_message_at: datetime | None
    created_at: datetime
    last_message: LastMessageOut | None = Field(default=None, description="the latest message, any direction")


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    direction: MessageDirection = Field(examples=["INBOUND"])
    sender_kind: SenderKind = Field(examples=["PATIENT"])
    sender_user_id: uuid.UUID | None = Field(description="the secretary who wrote it")
    kind: MessageKind = Field(examples=["TEXT"])
    body: str | None = Field(examples=["Olá, gostaria de marcar uma consulta"])
    media_url: str | None
    media_mimetype: str | None = Field(examples=["image/jpeg"])
    media_filename: str | None
    ack: DeliveryAck | None = Field(description="WhatsApp delivery state of an outbound message", examples=["READ"])
    sent_at: datetime | None
    created_at: datetime
    processing_note: str | None = Field(description="inbound: how the bot dealt with it", examples=["replied"])


class ConversationFactsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    patient_name: str | None = Field(examples=["Maria"])
    symptoms: list[Any] = Field(examples=[["dor de cabeça"]])
    concerns: list[Any]
    preferences: dict[str, Any] = Field(examples=[{"periodo": "manhã"}])
    facts: dict[str, Any]
    intent_type: str | None = Field(examples=["SCHEDULE"])


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut] = Field(description="the latest `messages_limit` messages, oldest first")
    has_more_messages: bool = Field(description="older messages exist beyond `messages_limit`")
    facts: ConversationFactsOut | None = Field(description="what the assistant learned; null when nothing yet")
    lead_id: uuid.UUID | None
    tags: list[TagOut] = Field(description="the conversation's tags, by name")
    notes: list[NoteOut] = Field(description="the latest internal notes, newest first (all: GET .../notes)")
    has_more_notes: bool = Field(description="older notes exist beyond those shown")


class ConversationStatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ConversationStatus = Field(examples=["WAITING_SECRETARY"])
    reason: str | None = Field(default=None, max_length=500, examples=["Cliente solicitou agendamento"])

    _no_nul = field_validator("reason")(_without_nul)


class AssignmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID | None = Field(description="an ACTIVE user; null takes the conversation off everyone",
                                      examples=["0b7e4d1f-2a33-4c2e-9a57-6f1c2b1e8d4a"])  # fmt: skip


class MediaAttachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl = Field(description="WAHA downloads the file from here", examples=["https://cdn.clinica.com/a.pdf"])
    mimetype: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=128, examples=["application/pdf"])
    filename: str | None = Field(default=None, min_length=1, max_length=255, examples=["preparo-exame.pdf"])
    caption: str | None = Field(default=None, min_length=1, max_length=1024, examples=["Segue o preparo"])

    _no_nul = field_validator("filename", "caption")(_without_nul)


class SecretaryMessageCreate(BaseModel):
    """Exactly one of `text`, `template` or `media`."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, min_length=1, max_length=4096, examples=["Oi Maria, aqui é a Ana!"])
    template: str | None = Field(default=None, min_length=1, max_length=120, examples=["boas_vindas"])
    variables: dict[str, str | int | float] | None = Field(
        default=None, max_length=30, description="for `template`: its {{variables}}", examples=[{"nome": "Maria"}]
    )
    media: MediaAttachment | None = None

    _no_nul = field_validator("text", "template")(_without_nul)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("variables")
    @classmethod
    def _variables_are_sane(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        for name, item in (value or {}).items():
            if not VARIABLE_NAME.match(name):
                raise ValueError(f"bad variable name {name[:50]!r}")
            if isinstance(item, str) and (len(item) > 1000 or "\x00" in item):
                raise ValueError(f"variable {name} must be at most 1000 characters, without NUL")
        return value

    @model_validator(mode="after")
    def _exactly_one_content(self) -> SecretaryMessageCreate:
        given = [name for name in ("text", "template", "media") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of text, template or media")
        if self.variables is not None and self.template is None:
            raise ValueError("variables go with a template")
        return self


class IdempotencyHeader(BaseModel):
    idempotency_key: str | None = Field(
        default=None,
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY,
        description="repeat a send safely: the same key answers the stored message and sends nothing new",
        json_schema_extra={"example": "8f14e45f-ceea-467f-a0e6-0f0b1b6a2b3c"},
    )


class SecretaryMessageOut(MessageOut):
    parts: list[MessageOut] = Field(
        description="every message this send stored, in order: one for text or media, a template may need more "
        "(a file, then its text); the top-level fields are those of the first"
    )
