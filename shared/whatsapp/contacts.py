"""Who a WhatsApp chat belongs to: the phone number behind a `@c.us` id or, when WAHA can tell, an `@lid` id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Where WAHA's engines put the phone number of an `@lid` sender inside `_data` (WAHA issue #1608):
# NOWEB `key.remoteJidAlt` / `key.senderPn`, GOWS `Info.SenderAlt` / `Info.RecipientAlt`.
_LID_PHONE_PATHS = (
    ("key", "remoteJidAlt"),
    ("key", "senderPn"),
    ("key", "participantAlt"),
    ("Info", "SenderAlt"),
    ("Info", "RecipientAlt"),
)
_PHONE_SUFFIXES = ("@c.us", "@s.whatsapp.net")


@dataclass(frozen=True)
class Contact:
    chat_id: str  # what we key the conversation on and send to: `<digits>@c.us`, or the `@lid` id
    phone_number: str | None  # digits only, with country code
    lid: str | None = None


def phone_of(jid: str | None) -> str | None:
    """The digits of a `<digits>@c.us` / `@s.whatsapp.net` id (a device suffix `:12` is dropped)."""
    if not jid or not jid.endswith(_PHONE_SUFFIXES):
        return None
    user = jid.split("@", 1)[0].split(":", 1)[0]
    return user if user.isdigit() else None


def _lookup(raw: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = raw
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def identify_contact(chat: str, raw: dict[str, Any] | None) -> Contact:
    """The contact behind a chat id, resolving `@lid` ids to the phone number when `_data` carries it."""
    if not chat.endswith("@lid"):
        phone = phone_of(chat)
        return Contact(chat_id=f"{phone}@c.us" if phone else chat, phone_number=phone)
    for path in _LID_PHONE_PATHS:
        phone = phone_of(_lookup(raw or {}, path))
        if phone:
            return Contact(chat_id=f"{phone}@c.us", phone_number=phone, lid=chat)
    return Contact(chat_id=chat, phone_number=None, lid=chat)


def push_name(raw: dict[str, Any] | None) -> str | None:
    """The name the contact set in WhatsApp (NOWEB `pushName`, WEBJS `notifyName`, GOWS `Info.PushName`)."""
    raw = raw or {}
    for value in (raw.get("pushName"), raw.get("notifyName"), _lookup(raw, ("Info", "PushName"))):
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return None
