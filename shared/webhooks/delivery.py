"""One attempt of a delivery: claim it, POST it signed, record the answer and schedule the next attempt.

A task may run twice (STYLE rule 3). Each task names its attempt; an attempt already recorded is not made again,
and one under way elsewhere (claimed, not yet recorded) is left to it: the duplicate retries after the claim's
lease, which outlasts the request's timeout, so a claimant that died does not block the delivery forever.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session

from shared.config import Settings, get_settings
from shared.db import session_scope, utcnow
from shared.queue import TaskQueue
from shared.tasks.target import RetryLater
from shared.webhooks.dispatch import schedule_attempt
from shared.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)
EVENT_HEADER = "X-Clinicbot-Event"
DELIVERY_HEADER = "X-Clinicbot-Delivery"
TIMESTAMP_HEADER = "X-Clinicbot-Timestamp"
SIGNATURE_HEADER = "X-Clinicbot-Signature"
MAX_BACKOFF_SECONDS = 6 * 3600
LEASE_MARGIN_SECONDS = 30
ERROR_EXCERPT_CHARS = 500
USER_AGENT = "clinicbot-webhooks/1"


@dataclass(frozen=True)
class Claim:
    delivery_id: uuid.UUID
    attempt: int
    url: str
    secret: str
    event: str
    body: bytes


@dataclass(frozen=True)
class AttemptResult:
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Clinicbot-Signature value: "sha256=" and the hex HMAC-SHA256 of "<timestamp>.<body>"."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def backoff_seconds(attempt: int, settings: Settings) -> float:
    """How long after failed attempt `attempt` (1-based) the next one waits."""
    return min(MAX_BACKOFF_SECONDS, settings.webhook_delivery_base_seconds * 2 ** (attempt - 1))


def deliver(delivery_id: uuid.UUID, attempt: int, *, client: httpx.Client | None = None,
            queue: TaskQueue | None = None) -> str:  # fmt: skip
    """Make attempt `attempt` of a delivery at most once: "delivered", "retrying", "failed" or "skipped"."""
    settings = get_settings()
    with session_scope() as session:
        claim = _claim(session, delivery_id, attempt, settings)
    if claim is None:
        return "skipped"
    if client is None:
        with httpx.Client(timeout=settings.webhook_delivery_timeout_seconds, follow_redirects=False) as own:
            result = _post(claim, own)
    else:
        result = _post(claim, client)
    with session_scope() as session:
        outcome = _record(session, claim, result, settings, queue)
    log.info("webhook %s %s: %s", claim.event, outcome, result.status_code or result.error,
             extra={"delivery_id": str(delivery_id), "attempt": attempt})  # fmt: skip
    return outcome


def _claim(session: Session, delivery_id: uuid.UUID, attempt: int, settings: Settings) -> Claim | None:
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    # Gone with its endpoint, finished, or not the attempt due (a task run again after its attempt was recorded).
    if delivery is None or delivery.status is not DeliveryStatus.PENDING or attempt != len(delivery.attempts) + 1:
        return None
    now = utcnow()
    if delivery.attempt_count >= attempt and delivery.next_attempt_at and delivery.next_attempt_at > now:
        raise RetryLater((delivery.next_attempt_at - now).total_seconds(), "this attempt is under way elsewhere")
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.is_active:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        return None
    delivery.attempt_count = attempt
    delivery.next_attempt_at = now + timedelta(seconds=settings.webhook_delivery_timeout_seconds + LEASE_MARGIN_SECONDS)
    return Claim(delivery.id, attempt, endpoint.url, endpoint.secret, delivery.event, _body(delivery))


def _body(delivery: WebhookDelivery) -> bytes:
    # JSONB reorders keys: put the envelope's back in reading order. Every attempt sends the same bytes.
    payload = {name: delivery.payload.get(name) for name in ("id", "event", "created_at", "data")}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _post(claim: Claim, client: httpx.Client) -> AttemptResult:
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: claim.event,
        DELIVERY_HEADER: str(claim.delivery_id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(claim.secret, timestamp, claim.body),
    }
    attempted_at, started = utcnow(), time.monotonic()
    try:
        with client.stream("POST", claim.url, content=claim.body, headers=headers) as response:
            error = None if response.is_success else f"HTTP {response.status_code}: {_excerpt(response)}"
            status = response.status_code
    except httpx.HTTPError as exc:
        status, error = None, _printable(f"{type(exc).__name__}: {exc}")
    return AttemptResult(attempted_at, status, round((time.monotonic() - started) * 1000), error)


def _excerpt(response: httpx.Response) -> str:
    # The start of the answer only: a receiver may send megabytes back.
    received = b""
    for chunk in response.iter_bytes():
        received += chunk
        if len(received) >= ERROR_EXCERPT_CHARS:
            break
    return _printable(received.decode("utf-8", "replace"))


def _printable(text: str) -> str:
    # JSONB refuses \u0000 in a string: the attempt would not be recorded.
    return text[:ERROR_EXCERPT_CHARS].replace("\x00", "")


def _record(session: Session, claim: Claim, result: AttemptResult, settings: Settings, queue: TaskQueue | None) -> str:
    delivery = session.get(WebhookDelivery, claim.delivery_id, with_for_update=True)
    if delivery is None or len(delivery.attempts) >= claim.attempt:
        return "skipped"
    entry = {"number": claim.attempt, "attempted_at": result.attempted_at.isoformat(),
             "status_code": result.status_code, "duration_ms": result.duration_ms, "error": result.error}  # fmt: skip
    delivery.attempts = [*delivery.attempts, entry]
    if result.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, utcnow(), None
        return "delivered"
    if claim.attempt >= delivery.attempt_limit:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        return "failed"
    delay = backoff_seconds(claim.attempt, settings)
    delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
    schedule_attempt(session, delivery.id, claim.attempt + 1, delay=delay, queue=queue)
    return "retrying"
