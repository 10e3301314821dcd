"""What the live dashboard's routes take and answer: the stream, its ticket and the polling fallback (card 145)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.clinic.schemas import check_timezone
from shared.metrics.live import EVENTS
from shared.metrics.live_access import TICKET_PATTERN, TICKET_SECONDS
from shared.metrics.live_kpis import LiveKpisOut

STREAM_ID_PATTERN = r"^\d{1,20}-\d{1,20}$"
STREAM_ID_EXAMPLE = "1764514800000-0"


class LiveScopeQuery(BaseModel):
    """Whose live numbers and events, and the zone "today" is read in."""

    model_config = ConfigDict(extra="forbid")

    tz: str | None = Field(default=None, description="IANA zone of \"today\" (default: the clinic's)",
                           json_schema_extra={"example": "America/Manaus"})  # fmt: skip
    user_id: uuid.UUID | None = Field(default=None, description="ADMIN: what one secretary sees; a USER may name "
                                      "only herself")  # fmt: skip

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class StreamQuery(LiveScopeQuery):
    ticket: str | None = Field(default=None, pattern=TICKET_PATTERN, description="from POST "
                               "/api/v1/dashboard/stream-ticket: opens one stream, once, within 60 s")  # fmt: skip
    last_event_id: str | None = Field(default=None, pattern=STREAM_ID_PATTERN, description="replay the events after "
                                      "this id (the Last-Event-ID header wins when both are sent)",
                                      json_schema_extra={"example": STREAM_ID_EXAMPLE})  # fmt: skip


class DocumentedStreamQuery(StreamQuery):
    """The stream's query as documented: a browser's EventSource can authenticate only with the ticket."""

    ticket: str = Field(pattern=TICKET_PATTERN, description="from POST /api/v1/dashboard/stream-ticket: opens one "
                        "stream, once, within 60 s. Marked required because it is how a browser authenticates; a "
                        "client that sends `Authorization: Bearer` may leave it out",
                        json_schema_extra={"example": "q3Vx0m2VfJ8oYw1kE6bLr5tZsN4aHcP7uD9gXiRjK0M"})  # fmt: skip


class StreamHeaders(BaseModel):
    last_event_id: str | None = Field(default=None, alias="Last-Event-ID", pattern=STREAM_ID_PATTERN,
                                      description="sent by EventSource when it reconnects: replay what came after it",
                                      json_schema_extra={"example": STREAM_ID_EXAMPLE})  # fmt: skip


class StreamTicketOut(BaseModel):
    ticket: str = Field(examples=["q3Vx0m2VfJ8oYw1kE6bLr5tZsN4aHcP7uD9gXiRjK0M"])
    expires_in: int = Field(description="seconds the ticket stays valid", examples=[TICKET_SECONDS])
    stream_url: str = Field(
        description="where to open the EventSource (add last_event_id to resume)",
        examples=["/api/v1/dashboard/stream?ticket=q3Vx0m2VfJ8oYw1kE6bLr5tZsN4aHcP7uD9gXiRjK0M"],
    )


class LiveQuery(LiveScopeQuery):
    since: str | None = Field(default=None, pattern=STREAM_ID_PATTERN, description="the events after this stream id "
                              "(the last_id of the previous poll); without it, none: polling starts from now",
                              json_schema_extra={"example": STREAM_ID_EXAMPLE})  # fmt: skip
    limit: int = Field(default=100, ge=1, le=1000, description="at most this many events read from the stream")


class LiveEventOut(BaseModel):
    id: str = Field(description="the stream id", examples=[STREAM_ID_EXAMPLE])
    event: str = Field(description="one of " + ", ".join(EVENTS), examples=["message.received"])
    data: dict[str, Any] = Field(description="ids, statuses and times; never a message's text",
                                 examples=[{"conversation_id": "3f0c2a9e-6d8b-4b1e-9a57-1c2d3e4f5a6b",
                                            "message_id": "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                                            "kind": "TEXT", "at": "2026-11-30T15:00:00+00:00"}])  # fmt: skip


class LiveOut(BaseModel):
    kpi: LiveKpisOut
    events: list[LiveEventOut] = Field(description="the events after `since` that the caller may see, oldest first")
    last_id: str = Field(description="poll again with since=this (it moves past events outside the caller's scope)",
                         examples=[STREAM_ID_EXAMPLE])  # fmt: skip
    more: bool = Field(description="true when `limit` cut the read short: poll again at once", examples=[False])
    stream_available: bool = Field(description="false while Redis is unreachable: no events, last_id unchanged",
                                   examples=[True])  # fmt: skip
