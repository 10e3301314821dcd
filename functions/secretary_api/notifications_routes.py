"""/api/v1/notifications: each signed-in user's own in-app notifications (card 099).

Notifications are personal: an ADMIN sees and marks only her own, like anyone else, and another user's
notification answers 404.
"""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_auth
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.notifications import service
from shared.notifications.schemas import (
    NotificationOut,
    NotificationPage,
    NotificationPath,
    NotificationQuery,
    ReadAllOut,
)

api = APIBlueprint(
    "notifications",
    __name__,
    url_prefix=f"{API_PREFIX}/notifications",
    abp_tags=[Tag(name="notifications")],
    abp_security=SECURED,
)


@api.get("", responses={200: NotificationPage, **error_responses(401, 422)})
@require_auth
def list_notifications(query: NotificationQuery):
    """The caller's notifications, unread first, then newest first; `unread` counts all her unread ones."""
    with session_scope() as session:
        page = service.list_notifications(session, current_principal().user_id, query)
        return page.model_dump(mode="json")


@api.put("/<uuid:notification_id>/read", responses={200: NotificationOut, **error_responses(401, 404, 422)})
@require_auth
def mark_notification_read(path: NotificationPath):
    """Mark one of the caller's notifications read (again is fine: the first `read_at` stays)."""
    with session_scope() as session:
        notification = service.mark_read(session, current_principal().user_id, path.notification_id)
        return NotificationOut.model_validate(notification).model_dump(mode="json")


@api.put("/read-all", responses={200: ReadAllOut, **error_responses(401)})
@require_auth
def mark_all_notifications_read():
    """Mark all of the caller's unread notifications read."""
    with session_scope() as session:
        return ReadAllOut(updated=service.mark_all_read(session, current_principal().user_id)).model_dump()
