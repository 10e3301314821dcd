"""Signed, single-use feedback tokens (card 134): the patient answers without an account.

A token is `base64url(conversation id | nonce | expiry) . base64url(HMAC-SHA256)`, 86 characters, short enough
for a WhatsApp message. The key is the JWT secret, but every MAC covers a purpose prefix, so a feedback token can
never be passed off as anything else signed with that secret. Single use is not tracked here: the nonce is stored
with the answer under a unique constraint (shared/feedback/service.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.config import Settings, get_settings
from shared.db import utcnow
from shared.errors import Unauthorized
from shared.http import API_PREFIX

TOKEN_LIFETIME = timedelta(days=7)
FEEDBACK_FORM_PATH = f"{API_PREFIX}/feedback/form"  # served by functions/secretary_api/feedback_routes.py
INVALID_FEEDBACK_TOKEN = "Invalid or expired feedback token"
_PURPOSE = b"clinicbot.feedback.v1:"
_PAYLOAD = struct.Struct(">16s12sQ")  # conversation uuid, 12 random bytes, expiry as unix seconds


@dataclass(frozen=True)
class FeedbackClaims:
    conversation_id: uuid.UUID
    nonce: str
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: bytes, settings: Settings) -> bytes:
    settings.require("jwt_secret_key")
    key = settings.jwt_secret_key.get_secret_value().encode()
    return hmac.new(key, _PURPOSE + payload, hashlib.sha256).digest()


def issue_feedback_token(
    conversation_id: uuid.UUID, *, now: datetime | None = None, settings: Settings | None = None
) -> str:
    """A token that lets the patient of this conversation answer once, within 7 days."""
    settings = settings or get_settings()
    expires = int(((now or utcnow()) + TOKEN_LIFETIME).timestamp())
    payload = _PAYLOAD.pack(conversation_id.bytes, secrets.token_bytes(12), expires)
    return f"{_b64(payload)}.{_b64(_mac(payload, settings))}"


def verify_feedback_token(
    token: str, *, now: datetime | None = None, settings: Settings | None = None
) -> FeedbackClaims:
    """The token's claims, or Unauthorized when it is malformed, tampered with or expired."""
    settings = settings or get_settings()
    try:
        encoded_payload, _, encoded_mac = token.strip().partition(".")
        payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
        if not hmac.compare_digest(mac, _mac(payload, settings)):
            raise ValueError("bad signature")
        conversation, nonce, expires = _PAYLOAD.unpack(payload)
    except (ValueError, binascii.Error, struct.error, UnicodeEncodeError):
        raise Unauthorized(INVALID_FEEDBACK_TOKEN) from None
    expires_at = datetime.fromtimestamp(expires, tz=UTC)
    if expires_at <= (now or utcnow()):
        raise Unauthorized(INVALID_FEEDBACK_TOKEN)
    return FeedbackClaims(uuid.UUID(bytes=conversation), nonce.hex(), expires_at)


def feedback_link(token: str, public_base_url: str) -> str:
    """The public form's address with the token after '#': a fragment never leaves the phone's browser, so the
    credential reaches no server's or proxy's access log; the form's script reads it and posts it."""
    return f"{public_base_url}{FEEDBACK_FORM_PATH}#{token}"


def closing_message(token: str, public_base_url: str) -> str:
    """The pt-BR message that asks the patient for a score, with the link to the form that takes it."""
    return (
        "Como foi seu atendimento? Conte pra gente com uma nota de 0 a 10 (0 é muito ruim e 10 é excelente) "
        f"neste link: {feedback_link(token, public_base_url)}"
    )
