"""Request bodies we send to WAHA and the one thing we read back from a send: the message id.

Shapes follow WAHA 2026.7.1's OpenAPI spec (`WebhookConfig`, `RemoteFile` / `BinaryFile`, `WAMessage`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Literal

# `message` and `message.any` both arrive for inbound messages (the intake de-duplicates on the message id);
# `message.any` is the only one that carries what the clinic's own phone sent, which is how we see a human
# take over. The rest keep delivery ticks, session state, deletions, edits and reactions in step.
WEBHOOK_EVENTS = (
    "message",
    "message.any",
    "message.ack",
    "session.status",
    "message.revoked",
    "message.edited",
    "message.reaction",
)

RetryPolicy = Literal["constant", "linear", "exponential"]


def build_webhook_config(
    url: str,
    hmac_key: str,
    *,
    events: tuple[str, ...] = WEBHOOK_EVENTS,
    retry_policy: RetryPolicy = "exponential",
    retry_delay_seconds: float = 2,
    retry_attempts: int = 6,
) -> dict[str, Any]:
    """A `WebhookConfig` for our intake: signed with `hmac_key`, retried by WAHA while the intake is down."""
    # Exponential from 2 s over 6 attempts rides out a deploy or a cold start (about two minutes) without
    # piling retries onto an intake that is struggling.
    return {
        "url": url,
        "events": list(events),
        "hmac": {"key": hmac_key},
        "retries": {"policy": retry_policy, "delaySeconds": retry_delay_seconds, "attempts": retry_attempts},
    }


@dataclass(frozen=True)
class MediaFile:
    """A file to send: WAHA fetches `url` itself, or takes the bytes inline as base64 `data`."""

    mimetype: str
    url: str | None = None
    data: str | None = None
    filename: str | None = None

    def __post_init__(self) -> None:
        if (self.url is None) == (self.data is None):
            raise ValueError("a MediaFile needs exactly one of url or data")

    @classmethod
    def from_url(cls, url: str, mimetype: str, filename: str | None = None) -> MediaFile:
        """A file WAHA downloads from `url`."""
        return cls(mimetype=mimetype, url=url, filename=filename)

    @classmethod
    def from_bytes(cls, content: bytes, mimetype: str, filename: str | None = None) -> MediaFile:
        """A file sent inline (base64) in the request body."""
        return cls(mimetype=mimetype, data=base64.b64encode(content).decode("ascii"), filename=filename)

    def as_payload(self, default_filename: str | None = None) -> dict[str, Any]:
        """The `file` object of a send request."""
        payload: dict[str, Any] = {"mimetype": self.mimetype}
        filename = self.filename or default_filename
        if filename:
            payload["filename"] = filename
        if self.url is not None:
            payload["url"] = self.url
        else:
            payload["data"] = self.data
        return payload


def extract_message_id(result: dict[str, Any]) -> str | None:
    """The serialized WhatsApp id (`true_<chat>_<id>`) of a send result, whatever the engine answered."""
    # The spec promises `WAMessage` (`id`: string), which is what GOWS returns; but "all engines send their own
    # format" (WAHA issue #760): WEBJS gives `id` as an object with `_serialized`, NOWEB gives Baileys'
    # raw `key`, and some WEBJS versions answered 201 with an empty body (issue #1087).
    message_id = result.get("id")
    if isinstance(message_id, str) and message_id:
        return message_id
    if isinstance(message_id, dict) and isinstance(message_id.get("_serialized"), str):
        return message_id["_serialized"]
    key = result.get("key")
    if isinstance(key, dict) and key.get("id") and key.get("remoteJid"):
        # Serialized the way WAHA's NOWEB webhooks spell it, so a later `message.ack` matches.
        chat = str(key["remoteJid"]).replace("@s.whatsapp.net", "@c.us")
        return f"{'true' if key.get('fromMe') else 'false'}_{chat}_{key['id']}"
    return None
