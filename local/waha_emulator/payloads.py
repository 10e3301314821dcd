"""Webhook envelopes and message payloads shaped like WAHA 2026.7.1 running the NOWEB engine.

NOWEB because that is the engine our compose stack runs (`WHATSAPP_DEFAULT_ENGINE: NOWEB`), and `_data` is
engine-specific: here it is Baileys' `WebMessageInfo` (`key`, `messageTimestamp`, `pushName`, `message`).
A sender known only by lid arrives as `from: "<lid>@lid"` with the phone in `_data.key.remoteJidAlt`
(`"<digits>@s.whatsapp.net"`, with `key.addressingMode: "lid"`), as Baileys 7 reports it.

The spec wins on shape (every payload validates against its `WAHAWebhook*` schema). Where WAHA itself sends
null for a field the spec declares non-nullable, the emulator leaves an optional field out (`media`,
`location`, `replyTo`, `me`, `metadata`) and sends the type's empty value for a required one
(`participant: ""` for a 1:1 chat, `mediaUrl: ""` without media, `body: ""` for an uncaptioned file).
As NOWEB does, `from` is always the chat, also for our own messages; `to` follows the spec's description
(our id for inbound, the chat for outbound).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from local.waha_emulator.identifiers import new_event_id, now_ms, serialize_message_id, to_jid

WAHA_VERSION = "2026.7.1"
ENGINE = "NOWEB"
ACK_NAMES = {-1: "ERROR", 0: "PENDING", 1: "SERVER", 2: "DEVICE", 3: "READ", 4: "PLAYED"}
ACK_PENDING, ACK_SERVER, ACK_DEVICE, ACK_READ = 0, 1, 2, 3


def build_environment() -> dict:
    return {
        "version": WAHA_VERSION,
        "engine": ENGINE,
        "tier": "PLUS",
        "browser": "/usr/bin/google-chrome-stable",
        "platform": "linux/x64",
        "worker": {"id": None},
    }


def build_envelope(event: str, session: str, payload: dict, me: dict | None, metadata: dict | None) -> dict:
    """The webhook body, keys in WAHA's order; `me` and `metadata` only when the session has them."""
    envelope: dict = {"id": new_event_id(), "timestamp": now_ms(), "event": event, "session": session}
    if metadata:
        envelope["metadata"] = metadata
    if me:
        envelope["me"] = me
    envelope |= {"payload": payload, "engine": ENGINE, "environment": build_environment()}
    return envelope


def build_status_payload(name: str, status: str, statuses: list[dict]) -> dict:
    """`WASessionStatusBody`."""
    return {"name": name, "status": status, "statuses": statuses}


@dataclass(frozen=True)
class MediaInfo:
    url: str
    mimetype: str
    filename: str | None
    size: int


@dataclass(frozen=True)
class MessageDraft:
    """Everything a `WAMessage` is built from."""

    chat_id: str  # as WAHA shows it: `...@c.us`, `...@lid`, `...@g.us`
    key_id: str
    from_me: bool
    source: str  # "api" (we sent it) or "app" (a phone did)
    body: str
    me_id: str
    timestamp: int  # seconds
    ack: int
    push_name: str | None = None
    media: MediaInfo | None = None
    location: dict | None = None  # latitude, longitude and optionally name, address
    phone_jid: str | None = None  # the phone behind a lid sender

    @property
    def message_id(self) -> str:
        return serialize_message_id(self.from_me, self.chat_id, self.key_id)


def build_wa_message(draft: MessageDraft) -> dict:
    """`WAMessage` as NOWEB emits it in `message` / `message.any` and answers a send with."""
    payload: dict = {
        "id": draft.message_id,
        "timestamp": draft.timestamp,
        "from": draft.chat_id,
        "fromMe": draft.from_me,
        "source": draft.source,
        "to": draft.chat_id if draft.from_me else draft.me_id,
        "participant": "",
        "body": draft.body,
        "hasMedia": draft.media is not None,
    }
    if draft.media:
        payload["media"] = {"url": draft.media.url, "mimetype": draft.media.mimetype}
        if draft.media.filename:
            payload["media"]["filename"] = draft.media.filename
    payload["mediaUrl"] = draft.media.url if draft.media else ""
    payload |= {"ack": draft.ack, "ackName": ACK_NAMES[draft.ack]}
    if draft.location:
        payload["location"] = _build_location(draft.location)
    payload["vCards"] = []
    payload["_data"] = _build_raw_message(draft)
    return payload


def build_ack_payload(message_id: str, chat_id: str, key_id: str, me_id: str, ack: int) -> dict:
    """`WAMessageAckBody` for one of our messages; `_data` is Baileys' `messages.update` entry."""
    return {
        "id": message_id,
        "from": me_id,
        "to": chat_id,
        "participant": "",
        "fromMe": True,
        "ack": ack,
        "ackName": ACK_NAMES[ack],
        # Baileys counts from ERROR=0, so its status is WAHA's ack + 1 (SERVER_ACK=2, DELIVERY_ACK=3, READ=4).
        "_data": {"key": {"remoteJid": to_jid(chat_id), "fromMe": True, "id": key_id}, "update": {"status": ack + 1}},
    }


def _build_location(location: dict) -> dict:
    # WALocation declares latitude and longitude as strings.
    result = {"latitude": str(location["latitude"]), "longitude": str(location["longitude"]), "live": False}
    for field in ("name", "address"):
        if location.get(field):
            result[field] = location[field]
    return result


def _build_raw_message(draft: MessageDraft) -> dict:
    key: dict = {"remoteJid": to_jid(draft.chat_id), "fromMe": draft.from_me, "id": draft.key_id}
    if draft.phone_jid:
        key |= {"remoteJidAlt": draft.phone_jid, "addressingMode": "lid"}
    raw: dict = {"key": key, "messageTimestamp": draft.timestamp}
    if draft.push_name:
        raw["pushName"] = draft.push_name
    raw |= {"broadcast": False, "message": _build_raw_content(draft)}
    return raw


def _build_raw_content(draft: MessageDraft) -> dict:
    if draft.location:
        content = {"degreesLatitude": draft.location["latitude"], "degreesLongitude": draft.location["longitude"]}
        content |= {f: draft.location[f] for f in ("name", "address") if draft.location.get(f)}
        return {"locationMessage": content}
    if draft.media:
        kind = _media_message_kind(draft.media.mimetype)
        content = {
            "url": f"https://mmg.whatsapp.net/v/t62.7118-24/{secrets.token_hex(8)}.enc",
            "mimetype": draft.media.mimetype,
            "fileLength": str(draft.media.size),
        }
        if draft.body:
            content["caption"] = draft.body
        if kind == "documentMessage" and draft.media.filename:
            content["fileName"] = draft.media.filename
        if kind == "audioMessage":
            content["ptt"] = draft.media.mimetype.startswith("audio/ogg")
        return {kind: content}
    return {"conversation": draft.body}


def _media_message_kind(mimetype: str) -> str:
    for prefix, kind in (("image/", "imageMessage"), ("video/", "videoMessage"), ("audio/", "audioMessage")):
        if mimetype.startswith(prefix):
            return kind
    return "documentMessage"
