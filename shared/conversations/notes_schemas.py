"""Request and response bodies of conversation notes, tags and message search (cards 103, 104, 112)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.conversations.models import MessageDirection, SenderKind
from shared.pagination import Page, PageQuery

NOTE_MAX_CHARS = 5000
TAG_NAME_MAX_CHARS = 50
SEARCH_MAX_CHARS = 200


def _clean_text(value: Any) -> Any:
    """Trimmed; Postgres refuses NUL in text, so without this check it would be a 500 at INSERT time."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
    return value


class NotePath(BaseModel):
    conversation_id: uuid.UUID
    note_id: uuid.UUID


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(
        min_length=1,
        max_length=NOTE_MAX_CHARS,
        description="the note, for the team only: it is never sent to the patient",
        examples=["Cliente solicitou retorno amanhã"],
    )

    _clean = field_validator("body", mode="before")(_clean_text)


class NoteUpdate(NoteCreate):
    """The new text of the note (the whole text: a note has nothing else to change)."""


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    user_id: uuid.UUID | None = Field(description="the author; null once her account is gone")
    body: str = Field(examples=["Cliente solicitou retorno amanhã"])
    created_at: datetime
    updated_at: datetime


class NoteListQuery(PageQuery):
    pass


class TagPath(BaseModel):
    tag_id: uuid.UUID


class ConversationTagPath(BaseModel):
    conversation_id: uuid.UUID
    tag_id: uuid.UUID


class TagCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=TAG_NAME_MAX_CHARS,
        description="unique regardless of case and surrounding spaces",
        examples=["Urgente"],
    )
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$", description="#RRGGBB", examples=["#FF0000"])

    _clean = field_validator("name", mode="before")(_clean_text)

    @field_validator("color")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value


class TagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str = Field(examples=["Urgente"])
    color: str | None = Field(examples=["#FF0000"])
    created_at: datetime


class TagListQuery(PageQuery):
    pass


class ConversationTagCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag_id: uuid.UUID = Field(description="an existing tag", examples=["6f1c2b1e-8d4a-4c2e-9a57-0b7e4d1f2a33"])


class ConversationTagsOut(BaseModel):
    conversation_id: uuid.UUID
    tags: list[TagOut] = Field(description="the conversation's tags, by name")


class SearchQuery(PageQuery):
    q: str = Field(
        min_length=1,
        max_length=SEARCH_MAX_CHARS,
        description='words to find in message bodies (Portuguese stemming; "quoted phrases", -excluded, or)',
        json_schema_extra={"example": "dor de dente"},  # query parameters take one example, not a list
    )

    _clean = field_validator("q", mode="before")(_clean_text)


class SearchHitOut(BaseModel):
    conversation_id: uuid.UUID
    name: str | None = Field(examples=["Maria"])
    phone_number: str | None = Field(examples=["5511999990001"])
    message_id: uuid.UUID = Field(description="the best-matching message of the conversation")
    direction: MessageDirection
    sender_kind: SenderKind
    message_created_at: datetime
    rank: float = Field(description="ts_rank_cd of the best message; higher is more relevant", examples=[0.2])
    snippet: str = Field(
        description="fragments of the message with the matches in <mark></mark> (the rest is the raw body)",
        examples=["estou com muita <mark>dor</mark> nos <mark>dentes</mark>"],
    )


class SearchPage(Page[SearchHitOut]):
    """A page of search hits. A very common term is ranked among its newest matches only (see search.py)."""

    total_is_estimate: bool = Field(
        default=False, description="true when the term is so common that `total` (and `pages`) are estimated"
    )
    searched_since: datetime | None = Field(
        default=None, description="when set, only messages from this time on were ranked (a very common term)"
    )
