"""WAHA's webhook bodies, written from its OpenAPI spec (2026.7.1: `WAHAWebhook*`, `WAMessage`, ...).

We require only what we act on. The spec marks more fields required than real WAHA sends: the payloads a
2024 WAHA posted carry no envelope `id`/`timestamp`, `me` may be null and `session.status` has no
`statuses`. Refusing those would lose patients' messages, so they are optional here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from shared.errors import FieldError, ValidationFailed
from shared.whatsapp.models import SessionStatus

MESSAGE_EVENTS = frozenset({"message", "message.any"})
HANDLED_EVENTS = MESSAGE_EVENTS | {
    "message.ack",
    "session.status",
    "message.revoked",
    "message.edited",
    "message.reaction",
}
# Chats that are not one patient: groups, broadcast lists and the status feed, channels.
IGNORED_CHAT_SUFFIXES = ("@g.us", "@broadcast", "@newsletter")


class WahaModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Media(WahaModel):
    url: str | None = None
    mimetype: str | None = None
    filename: str | None = None
    error: Any = None


class Location(WahaModel):
    latitude: Decimal = Field(ge=-90, le=90)
    longitude: Decimal = Field(ge=-180, le=180)
    name: str | None = None
    address: str | None = None


class Message(WahaModel):
    """`WAMessage`: the payload of `message` and `message.any` (and the shape of edited messages)."""

    id: str = Field(min_length=1, max_length=255)
    timestamp: float | None = None  # seconds
    sender: str = Field(alias="from", min_length=1, max_length=128)
    from_me: bool = Field(default=False, alias="fromMe")
    source: Literal["api", "app"] | None = None
    to: str | None = Field(default=None, max_length=128)
    participant: str | None = None
    body: str | None = None
    has_media: bool = Field(default=False, alias="hasMedia")
    media: Media | None = None
    location: Location | None = None
    vcards: list[str] | None = Field(default=None, alias="vCards")
    raw: dict[str, Any] | None = Field(default=None, alias="_data")

    @property
    def chat(self) -> str:
        """The other party of the chat: the sender, or the recipient of what the clinic sent."""
        return (self.to or self.sender) if self.from_me else self.sender


class EditedMessage(Message):
    edited_message_id: str | None = Field(default=None, alias="editedMessageId")


class AckBody(WahaModel):
    id: str = Field(min_length=1, max_length=255)
    ack: Literal[-1, 0, 1, 2, 3, 4]
    ack_name: str | None = Field(default=None, alias="ackName")
    from_me: bool | None = Field(default=None, alias="fromMe")


class SessionStatusBody(WahaModel):
    name: str = Field(min_length=1, max_length=64)
    status: SessionStatus


class RevokedBody(WahaModel):
    revoked_message_id: str | None = Field(default=None, alias="revokedMessageId")
    before: Message | None = None
    after: Message | None = None


class Reaction(WahaModel):
    text: str = Field(max_length=32)
    message_id: str = Field(alias="messageId", min_length=1, max_length=255)


class ReactionBody(WahaModel):
    id: str
    sender: str = Field(alias="from")
    from_me: bool = Field(default=False, alias="fromMe")
    reaction: Reaction


class Me(WahaModel):
    id: str | None = None
    push_name: str | None = Field(default=None, alias="pushName")


class Envelope(WahaModel):
    id: str | None = None  # evt_<ulid>; absent before WAHA 2024.10
    timestamp: int | None = None  # ms
    session: str = Field(min_length=1, max_length=64)
    engine: str | None = None
    me: Me | None = None


class MessageEvent(Envelope):
    event: Literal["message", "message.any"]
    payload: Message


class AckEvent(Envelope):
    event: Literal["message.ack"]
    payload: AckBody


class SessionStatusEvent(Envelope):
    event: Literal["session.status"]
    payload: SessionStatusBody


class RevokedEvent(Envelope):
    event: Literal["message.revoked"]
    payload: RevokedBody


class EditedEvent(Envelope):
    event: Literal["message.edited"]
    payload: EditedMessage


class ReactionEvent(Envelope):
    event: Literal["message.reaction"]
    payload: ReactionBody


class OtherEvent(WahaModel):
    """An event we do not subscribe to act on; acknowledged and ignored."""

    event: str
    session: str | None = None


WebhookEvent = Annotated[
    MessageEvent | AckEvent | SessionStatusEvent | RevokedEvent | EditedEvent | ReactionEvent,
    Field(discriminator="event"),
]
_HANDLED = TypeAdapter(WebhookEvent)
_EVENT_NAME = TypeAdapter(OtherEvent)


def parse_webhook(
    raw: bytes,
) -> MessageEvent | AckEvent | SessionStatusEvent | RevokedEvent | EditedEvent | ReactionEvent | OtherEvent:
    """Validate a webhook body; raises ValidationFailed naming every bad field."""
    try:
        head = _EVENT_NAME.validate_json(raw)
        if head.event not in HANDLED_EVENTS:
            return head
        return _HANDLED.validate_json(raw)
    except ValidationError as exc:
        raise ValidationFailed(_field_errors(exc)) from None


def _field_errors(exc: ValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors(include_url=False):
        location = [str(part) for part in error["loc"]]
        if location and location[0] in HANDLED_EVENTS:
            location = location[1:]  # the discriminator's tag is not a field of the body
        errors.append(FieldError(field=".".join(location) or "body", message=error["msg"]))
    return errors


def is_patient_chat(chat_id: str) -> bool:
    """False for groups, broadcasts, the status feed and channels."""
    return not chat_id.endswith(IGNORED_CHAT_SUFFIXES) and chat_id != "status@broadcast"
