"""/api/v1/scheduled-messages: messages a secretary schedules for later (card 120); the scheduler sends them."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.pagination import Page
from shared.scheduling import service
from shared.scheduling.schemas import (
    ScheduledMessageCreate,
    ScheduledMessageOut,
    ScheduledMessagePath,
    ScheduledMessageQuery,
)
from shared.users.permissions import Permission

api = APIBlueprint(
    "scheduled_messages",
    __name__,
    url_prefix=f"{API_PREFIX}/scheduled-messages",
    abp_tags=[Tag(name="scheduled messages")],
    abp_security=SECURED,
)


def _out(message) -> dict:
    return ScheduledMessageOut.model_validate(message).model_dump(mode="json")


@api.post("", responses={201: ScheduledMessageOut, **error_responses(400, 401, 404, 409, 422)})
@require_permission(Permission.SCHEDULE_MESSAGES)
def schedule_message(body: ScheduledMessageCreate):
    """Schedule a message to a phone number or a conversation; a time in the past is 400."""
    with session_scope() as session:
        return _out(service.schedule_message(session, body, current_principal())), 201


@api.get("", responses={200: Page[ScheduledMessageOut], **error_responses(401, 422)})
@require_permission(Permission.SCHEDULE_MESSAGES)
def list_scheduled_messages(query: ScheduledMessageQuery):
    """Your scheduled messages (ADMIN: everyone's, or one user's), soonest first."""
    with session_scope() as session:
        return service.list_scheduled(session, query, current_principal()).model_dump(mode="json")


@api.get("/<uuid:scheduled_id>", responses={200: ScheduledMessageOut, **error_responses(401, 404)})
@require_permission(Permission.SCHEDULE_MESSAGES)
def get_scheduled_message(path: ScheduledMessagePath):
    with session_scope() as session:
        return _out(service.get_scheduled(session, path.scheduled_id, current_principal()))


@api.post("/<uuid:scheduled_id>/cancel", responses={200: ScheduledMessageOut, **error_responses(401, 404, 409)})
@require_permission(Permission.SCHEDULE_MESSAGES)
def cancel_scheduled_message(path: ScheduledMessagePath):
    """Cancel a pending message: its author or an ADMIN. A sent or cancelled one is 409."""
    with session_scope() as session:
        return _out(service.cancel_scheduled(session, path.scheduled_id, current_principal()))
