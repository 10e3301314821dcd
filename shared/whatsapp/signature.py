"""WAHA's webhook signature: `X-Webhook-Hmac` is the hex HMAC-SHA512 of the raw body with the shared key."""

from __future__ import annotations

import hashlib
import hmac
import time

from shared.errors import Unauthorized


def sign_body(body: bytes, key: str) -> str:
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


def verify_signature(body: bytes, signature: str | None, key: str) -> None:
    """Raise Unauthorized unless `signature` is the body's HMAC (compared in constant time)."""
    if not signature:
        raise Unauthorized("Missing X-Webhook-Hmac signature")
    if not hmac.compare_digest(sign_body(body, key), signature.strip().lower()):
        raise Unauthorized("Invalid X-Webhook-Hmac signature")


def verify_freshness(timestamp_ms: str | None, tolerance_seconds: int, now: float | None = None) -> None:
    """Refuse a webhook whose X-Webhook-Timestamp (ms) is too far from our clock (a replayed request).

    WAHA does not sign the timestamp, so this stops replays of captured requests only together with
    TLS; it costs nothing and WAHA always sends the header. A request without it (WAHA before 2024.10)
    is accepted: its message id still makes a replay store nothing new.
    """
    if timestamp_ms is None:
        return
    try:
        sent = int(timestamp_ms) / 1000
    except ValueError:
        raise Unauthorized("Malformed X-Webhook-Timestamp") from None
    if abs((now if now is not None else time.time()) - sent) > tolerance_seconds:
        raise Unauthorized("X-Webhook-Timestamp is outside the accepted window")
