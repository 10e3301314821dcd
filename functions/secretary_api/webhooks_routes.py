"""Outbound webhooks for other systems (card 113): endpoints, their secrets, and their deliveries.

Every route needs MANAGE_WEBHOOKS (ADMIN by default).
"""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.pagination import Page
from shared.users.permissions import Permission
from shared.webhooks import service
from shared.webhooks.schemas import (
    DeliveryOut,
    DeliveryPath,
    DeliveryQuery,
    WebhookCreate,
    WebhookListQuery,
    WebhookOut,
    WebhookPath,
    WebhookSecretOut,
    WebhookUpdate,
)

api = APIBlueprint(
    "webhooks",
    __name__,
    url_prefix=f"{API_PREFIX}/webhooks",
    abp_tags=[Tag(name="webhooks")],
    abp_security=SECURED,
)


@api.post("", responses={201: WebhookSecretOut, **error_responses(400, 401, 403, 422)})
@require_permission(Permission.MANAGE_WEBHOOKS)
def register_webhook(body: WebhookCreate):
    """Register a URL for some events; the answer holds its signing secret, shown this once. Audited."""
    with session_scope() as session:
        return service.register_webhook(session, body, current_principal()).model_dump(mode="json"), 201


@api.get("", responses={200: Page[WebhookOut], **error_responses(401, 403, 422)})
@require_permission(Permission.MANAGE_WEBHOOKS)
def list_webhooks(query: WebhookListQuery):
    """The registered webhooks, newest first (never their secrets)."""
    with session_scope() as session:
        return service.list_webhooks(session, query, current_principal()).model_dump(mode="json")


@api.get("/<uuid:webhook_id>", responses={200: WebhookOut, **error_responses(401, 403, 404)})
@require_permission(Permission.MANAGE_WEBHOOKS)
def get_webhook(path: WebhookPath):
    """One webhook, without its secret."""
    with session_scope() as session:
        return service.get_webhook(session, path.webhook_id, current_principal()).model_dump(mode="json")


@api.patch("/<uuid:webhook_id>", responses={200: WebhookOut, **error_responses(400, 401, 403, 404, 422)})
@require_permission(Permission.MANAGE_WEBHOOKS)
def update_webhook(path: WebhookPath, body: WebhookUpdate):
    """Change a webhook's URL, events, description or activity (inactive: nothing is sent). Audited."""
    with session_scope() as session:
        return service.update_webhook(session, path.webhook_id, body, current_principal()).model_dump(mode="json")


@api.delete("/<uuid:webhook_id>", responses={204: None, **error_responses(401, 403, 404)})
@require_permission(Permission.MANAGE_WEBHOOKS)
def delete_webhook(path: WebhookPath):
    """Delete a webhook and its deliveries. Audited."""
    with session_scope() as session:
        service.delete_webhook(session, path.webhook_id, current_principal())
    return "", 204


@api.post("/<uuid:webhook_id>/rotate-secret", responses={200: WebhookSecretOut, **error_responses(401, 403, 404)})
@require_permission(Permission.MANAGE_WEBHOOKS)
def rotate_webhook_secret(path: WebhookPath):
    """Replace the signing secret now; the new one is shown this once. Audited."""
    with session_scope() as session:
        return service.rotate_secret(session, path.webhook_id, current_principal()).model_dump(mode="json")


@api.post("/<uuid:webhook_id>/ping", responses={202: DeliveryOut, **error_responses(401, 403, 404, 409)})
@require_permission(Permission.MANAGE_WEBHOOKS)
def ping_webhook(path: WebhookPath):
    """Send a `ping` event to the webhook; follow it in its deliveries. An inactive one is 409."""
    with session_scope() as session:
        return service.ping_webhook(session, path.webhook_id, current_principal()).model_dump(mode="json"), 202


@api.get("/<uuid:webhook_id>/deliveries", responses={200: Page[DeliveryOut], **error_responses(401, 403, 404, 422)})
@require_permission(Permission.MANAGE_WEBHOOKS)
def list_webhook_deliveries(path: WebhookPath, query: DeliveryQuery):
    """The webhook's deliveries with every attempt (time, status code, duration, error), newest first."""
    with session_scope() as session:
        page = service.list_deliveries(session, path.webhook_id, query, current_principal())
        return page.model_dump(mode="json")


@api.post(
    "/deliveries/<uuid:delivery_id>/redeliver", responses={202: DeliveryOut, **error_responses(401, 403, 404, 409)}
)
@require_permission(Permission.MANAGE_WEBHOOKS)
def redeliver_webhook_delivery(path: DeliveryPath):
    """Send a delivery again with a fresh round of attempts; a pending one is 409 until long overdue."""
    with session_scope() as session:
        return service.redeliver(session, path.delivery_id, current_principal()).model_dump(mode="json"), 202
