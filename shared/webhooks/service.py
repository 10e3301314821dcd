"""Use cases of outbound webhooks for the secretary API: register, list, read, change, delete, rotate the secret,
ping, and see and redeliver deliveries (card 113).

MANAGE_WEBHOOKS (ADMIN by default) is checked by the routes. An ADMIN sees every endpoint; a USER granted the
permission sees only those she registered (anyone else's is "not found"), and their deliveries.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.config import get_settings
from shared.db import utcnow
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared.pagination import Page, paginate
from shared.queue import TaskQueue
from shared.webhooks.dispatch import envelope, record_delivery, schedule_attempt
from shared.webhooks.events import PING
from shared.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from shared.webhooks.schemas import (
    DeliveryOut,
    DeliveryQuery,
    WebhookCreate,
    WebhookListQuery,
    WebhookOut,
    WebhookSecretOut,
    WebhookUpdate,
)

AUDIT_ENTITY = "webhook"
NOT_FOUND = "Webhook not found"
DELIVERY_NOT_FOUND = "Delivery not found"
SECRET_PREFIX = "whsec_"
MAX_RECORDED_ATTEMPTS = 200  # redeliveries stop here: attempts are kept on the row
OVERDUE_AFTER_SECONDS = 15 * 60


def _visible(session: Session, webhook_id: uuid.UUID, actor: Principal, *, lock: bool = False) -> WebhookEndpoint:
    statement = select(WebhookEndpoint).where(WebhookEndpoint.id == webhook_id)
    if not actor.is_admin:
        statement = statement.where(WebhookEndpoint.created_by_user_id == actor.user_id)
    endpoint = session.scalars(statement.with_for_update() if lock else statement).one_or_none()
    if endpoint is None:
        raise NotFound(NOT_FOUND)
    return endpoint


def _require_allowed_url(url: str) -> None:
    # Deliveries carry patients' names and messages: in production they travel encrypted only.
    if get_settings().environment == "production" and urlsplit(url).scheme != "https":
        raise ValidationFailed([FieldError("url", "must be an https:// URL in production")])


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_hex(32)


def _snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"url": endpoint.url, "events": list(endpoint.events), "description": endpoint.description,
            "is_active": endpoint.is_active}  # fmt: skip


def _with_secret(endpoint: WebhookEndpoint) -> WebhookSecretOut:
    return WebhookSecretOut(**WebhookOut.model_validate(endpoint).model_dump(), secret=endpoint.secret)


def register_webhook(session: Session, data: WebhookCreate, actor: Principal) -> WebhookSecretOut:
    """Register an endpoint; its signing secret is in this answer only. Audited."""
    _require_allowed_url(data.url)
    endpoint = WebhookEndpoint(url=data.url, events=data.events, secret=_new_secret(), description=data.description,
                               is_active=data.is_active, created_by_user_id=actor.user_id)  # fmt: skip
    session.add(endpoint)
    session.flush()
    record_audit(session, actor, "webhook.created", AUDIT_ENTITY, endpoint.id, after=_snapshot(endpoint))
    return _with_secret(endpoint)


def list_webhooks(session: Session, query: WebhookListQuery, actor: Principal) -> Page[WebhookOut]:
    """The visible endpoints, newest first."""
    statement = select(WebhookEndpoint).order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id)
    if not actor.is_admin:
        statement = statement.where(WebhookEndpoint.created_by_user_id == actor.user_id)
    if query.is_active is not None:
        statement = statement.where(WebhookEndpoint.is_active.is_(query.is_active))
    return paginate(session, statement, query, WebhookOut.model_validate)


def get_webhook(session: Session, webhook_id: uuid.UUID, actor: Principal) -> WebhookOut:
    """One endpoint, without its secret."""
    return WebhookOut.model_validate(_visible(session, webhook_id, actor))


def update_webhook(session: Session, webhook_id: uuid.UUID, changes: WebhookUpdate, actor: Principal) -> WebhookOut:
    """Change the URL, events, description or activity of an endpoint; audited when anything changed."""
    endpoint = _visible(session, webhook_id, actor, lock=True)
    if "url" in changes.model_fields_set:
        _require_allowed_url(changes.url)
    before = _snapshot(endpoint)
    for field in changes.model_fields_set:
        setattr(endpoint, field, getattr(changes, field))
    after = _snapshot(endpoint)
    if after != before:
        record_audit(session, actor, "webhook.updated", AUDIT_ENTITY, endpoint.id, before=before, after=after)
        session.flush()  # so that updated_at is final in the answer
    return WebhookOut.model_validate(endpoint)


def delete_webhook(session: Session, webhook_id: uuid.UUID, actor: Principal) -> None:
    """Delete an endpoint with its deliveries (pending ones are never sent). Audited."""
    endpoint = _visible(session, webhook_id, actor, lock=True)
    record_audit(session, actor, "webhook.deleted", AUDIT_ENTITY, endpoint.id, before=_snapshot(endpoint))
    session.delete(endpoint)


def rotate_secret(session: Session, webhook_id: uuid.UUID, actor: Principal) -> WebhookSecretOut:
    """Replace the signing secret at once (later attempts sign with the new one); shown in this answer only."""
    endpoint = _visible(session, webhook_id, actor, lock=True)
    endpoint.secret = _new_secret()
    record_audit(session, actor, "webhook.secret_rotated", AUDIT_ENTITY, endpoint.id, after={"secret": "rotated"})
    session.flush()
    return _with_secret(endpoint)


def ping_webhook(
    session: Session, webhook_id: uuid.UUID, actor: Principal, queue: TaskQueue | None = None
) -> DeliveryOut:
    """Send a `ping` event to one active endpoint, whatever it subscribed to; the delivery to follow."""
    endpoint = _visible(session, webhook_id, actor)
    if not endpoint.is_active:
        raise Conflict("This webhook is inactive; activate it to ping it")
    event_id = uuid.uuid4()
    data = {"webhook_id": str(endpoint.id), "events": list(endpoint.events)}
    delivery_id = record_delivery(session, endpoint.id, PING, event_id, envelope(event_id, PING, data), queue=queue)
    return DeliveryOut.model_validate(session.get(WebhookDelivery, delivery_id))


def list_deliveries(
    session: Session, webhook_id: uuid.UUID, query: DeliveryQuery, actor: Principal
) -> Page[DeliveryOut]:
    """An endpoint's deliveries with their attempts, newest first."""
    endpoint = _visible(session, webhook_id, actor)
    statement = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
    )
    if query.status is not None:
        statement = statement.where(WebhookDelivery.status == query.status)
    if query.event is not None:
        statement = statement.where(WebhookDelivery.event == query.event)
    return paginate(session, statement, query, DeliveryOut.model_validate)


def _overdue(delivery: WebhookDelivery) -> bool:
    # Pending long after its attempt was due: that attempt's task was lost (the queue refused it after the commit).
    due = delivery.next_attempt_at
    return due is not None and due < utcnow() - timedelta(seconds=OVERDUE_AFTER_SECONDS)


def redeliver(
    session: Session, delivery_id: uuid.UUID, actor: Principal, queue: TaskQueue | None = None
) -> DeliveryOut:
    """Send a delivery again (delivered, failed, or stuck pending), the same body, with a fresh round of attempts."""
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound(DELIVERY_NOT_FOUND)
    try:
        endpoint = _visible(session, delivery.endpoint_id, actor)
    except NotFound:
        raise NotFound(DELIVERY_NOT_FOUND) from None
    if delivery.status is DeliveryStatus.PENDING and not _overdue(delivery):
        raise Conflict("This delivery is still pending; it is retried on its own")
    if not endpoint.is_active:
        raise Conflict("This webhook is inactive; activate it to redeliver")
    made = len(delivery.attempts)
    if made >= MAX_RECORDED_ATTEMPTS:
        raise Conflict(f"This delivery was attempted {made} times; it cannot be redelivered again")
    delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.PENDING, None, utcnow()
    delivery.attempt_count = made
    delivery.attempt_limit = made + get_settings().webhook_delivery_max_attempts
    schedule_attempt(session, delivery.id, made + 1, queue=queue)
    session.flush()
    return DeliveryOut.model_validate(delivery)
