"""Ids spelled the way WAHA spells them: event ids, request ids, message ids, chat ids and lids."""

from __future__ import annotations

import hashlib
import os
import secrets
import time

# Crockford's base32, lower case: WAHA's event ids are lower-case ULIDs ("evt_01aaaa...").
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_event_id() -> str:
    """`evt_` + a lower-case ULID: 48 bits of milliseconds, 80 random bits."""
    value = (now_ms() << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "evt_" + "".join(reversed(chars))


def new_request_id() -> str:
    """Like the `uniqid()` WAHA puts in X-Webhook-Request-Id: base36 time and randomness, no dashes."""
    value = (time.time_ns() // 1000 << 40) | secrets.randbits(40)
    digits = []
    while value:
        value, rest = divmod(value, 36)
        digits.append(_BASE36[rest])
    return "".join(reversed(digits))


def new_inbound_key_id() -> str:
    """A phone's message id: 32 upper-case hex digits."""
    return secrets.token_hex(16).upper()


def new_outbound_key_id() -> str:
    """A message id the way Baileys (NOWEB) makes ours: `3EB0` and 18 upper-case hex digits."""
    return "3EB0" + secrets.token_hex(9).upper()


def serialize_message_id(from_me: bool, chat_id: str, key_id: str) -> str:
    """`true_5511999999999@c.us_3EB0...`, the id WAHA shows in payloads and takes in requests."""
    return f"{'true' if from_me else 'false'}_{chat_id}_{key_id}"


def chat_of_message_id(message_id: str) -> str | None:
    parts = message_id.split("_")
    return parts[1] if len(parts) >= 3 and parts[0] in ("true", "false") else None


def digits_of(value: str) -> str:
    """The digits of a phone number or of the user part of a chat id (`+55 (11) 9...`, `55...@c.us`)."""
    return "".join(ch for ch in value.split("@", 1)[0].split(":", 1)[0] if ch.isdigit())


def to_chat_id(value: str) -> str:
    """WAHA's `@c.us` spelling for a person; lids and groups keep their server."""
    if value.endswith(("@lid", "@g.us", "@newsletter", "@broadcast")):
        return value
    return f"{digits_of(value)}@c.us"


def to_jid(chat_id: str) -> str:
    """The WhatsApp (Baileys) spelling that `_data` carries: `@s.whatsapp.net` for people."""
    return chat_id.replace("@c.us", "@s.whatsapp.net")


def lid_for_phone(phone_digits: str) -> str:
    """A stable 15-digit lid for a phone number, so one patient always gets the same `@lid`."""
    digest = int.from_bytes(hashlib.sha256(f"lid:{phone_digits}".encode()).digest()[:8], "big")
    return str(100_000_000_000_000 + digest % 900_000_000_000_000)
