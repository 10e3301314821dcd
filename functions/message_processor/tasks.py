"""The message processor's task kinds and the use case each one runs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import redis

from shared.assistant.composition import turn_services
from shared.assistant.turn import TurnFailed, run_turn
from shared.conversations.turns import ConversationBusy, send_maintenance_notice
from shared.feedback.service import send_feedback_request
from shared.tasks.target import DiscardTask, RetryLater
from shared.webhooks.delivery import deliver
from shared.webhooks.payloads import announce_received_messages
from shared.whatsapp.client import WahaClient
from shared.whatsapp.media import fetch_media

log = logging.getLogger(__name__)


def _uuid(payload: dict[str, Any], name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(payload[name]))
    except (KeyError, ValueError):
        raise DiscardTask(f"payload has no valid {name!r}") from None


def process_message(payload: dict[str, Any]) -> None:
    message_id = _uuid(payload, "message_id") if payload.get("message_id") else None  # a sweep names none
    announce_received_messages(_uuid(payload, "conversation_id"), message_id)  # once per message, however often run
    try:
        run_turn(_uuid(payload, "conversation_id"), message_id, turn_services())
    except ConversationBusy:
        raise RetryLater(3, "another turn of this conversation is running") from None
    except TurnFailed as exc:
        raise RetryLater(exc.retry_after, str(exc)) from None
    except redis.RedisError as exc:
        # The turn needs its lock; the sweep re-enqueues the message if every retry fails.
        raise RetryLater(10, f"redis unavailable: {type(exc).__name__}") from None


def fetch_message_media(payload: dict[str, Any]) -> None:
    outcome = fetch_media(_uuid(payload, "message_id"))
    log.info("media %s", outcome, extra={"message_id": payload["message_id"]})


def maintenance_notice(payload: dict[str, Any]) -> None:
    send_maintenance_notice(_uuid(payload, "conversation_id"))


def feedback_request(payload: dict[str, Any]) -> None:
    closed_at = payload.get("closed_at")
    if not isinstance(closed_at, str) or not closed_at:
        raise DiscardTask("payload has no closed_at")
    send_feedback_request(_uuid(payload, "conversation_id"), closed_at)


def webhook_delivery(payload: dict[str, Any]) -> None:
    attempt = payload.get("attempt")
    if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
        raise DiscardTask("payload has no valid attempt number")
    deliver(_uuid(payload, "delivery_id"), attempt)


def restart_session(payload: dict[str, Any]) -> None:
    name = payload.get("session")
    if not isinstance(name, str) or not name:
        raise DiscardTask("payload has no session name")
    with WahaClient.from_settings(session=name) as waha:
        waha.restart_session()


TASKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "process_message": process_message,
    "fetch_media": fetch_message_media,
    "maintenance_notice": maintenance_notice,
    "restart_session": restart_session,
    "feedback_request": feedback_request,
    "webhook_delivery": webhook_delivery,
}


def run_task(payload: dict[str, Any]) -> None:
    """Run the use case the task's `kind` names; an unknown kind can never succeed."""
    handler = TASKS.get(payload.get("kind"))
    if handler is None:
        raise DiscardTask(f"unknown task kind {payload.get('kind')!r}")
    handler(payload)
