"""/api/v1/conversations: the chats with patients, their status and owner, and the secretary's own replies.

A USER sees and changes only the conversations assigned to her (anyone else's answers 404); an ADMIN all.
"""

from __future__ import annotations

import uuid

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_permission, require_role
from shared.conversations import human_reply, service
from shared.conversations.models import ConversationStatus
from shared.conversations.schemas import (
    AssignmentUpdate,
    ConversationDetailOut,
    ConversationDetailQuery,
    ConversationListQuery,
    ConversationOut,
    ConversationPath,
    ConversationStatusUpdate,
    IdempotencyHeader,
    MessageOut,
    SecretaryMessageCreate,
    SecretaryMessageOut,
)
from shared.db import session_scope
from shared.feedback.service import request_feedback
from shared.http import API_PREFIX, SECURED, error_responses
from shared.pagination import Page
from shared.users.models import Role
from shared.users.permissions import Permission
from shared.whatsapp.client import WahaClient

api = APIBlueprint(
    "conversations",
    __name__,
    url_prefix=f"{API_PREFIX}/conversations",
    abp_tags=[Tag(name="conversations")],
    abp_security=SECURED,
)


@api.get("", responses={200: Page[ConversationOut], **error_responses(401, 422)})
@require_permission(Permission.READ_CONVERSATIONS)
def list_conversations(query: ConversationListQuery):
    """Conversations by latest message, newest first; filters combine. A USER gets only hers."""
    with session_scope() as session:
        return service.list_conversations(session, current_principal(), query).model_dump(mode="json")


@api.get("/<uuid:conversation_id>", responses={200: ConversationDetailOut, **error_responses(401, 404, 422)})
@require_permission(Permission.READ_CONVERSATIONS)
def get_conversation(path: ConversationPath, query: ConversationDetailQuery):
    """A conversation with its latest messages (oldest first), what the assistant learned, and its lead."""
    with session_scope() as session:
        detail = service.get_conversation(session, current_principal(), path.conversation_id, query.messages_limit)
        return detail.model_dump(mode="json")


@api.patch("/<uuid:conversation_id>/status", responses={200: ConversationOut, **error_responses(401, 404, 409, 422)})
@require_permission(Permission.WRITE_CONVERSATIONS)
def change_status(path: ConversationPath, body: ConversationStatusUpdate):
    """Change the status along the allowed transitions (409 names the allowed ones); audited with the reason."""
    with session_scope() as session:
        changed = service.change_status(session, current_principal(), path.conversation_id, body)
    if changed.status is ConversationStatus.CLOSED:  # after the commit: ask the patient for a score
        request_feedback(changed.id)
    return changed.model_dump(mode="json")


@api.post("/<uuid:conversation_id>/assign", responses={200: ConversationOut, **error_responses(401, 403, 404, 422)})
@require_role(Role.ADMIN)
def assign_conversation(path: ConversationPath, body: AssignmentUpdate):
    """Give the conversation to an active user, who is notified (null: to nobody). ADMIN only; audited."""
    with session_scope() as session:
        out = service.assign_conversation(session, current_principal(), path.conversation_id, body)
        return out.model_dump(mode="json")


@api.post("/<uuid:conversation_id>/claim", responses={200: ConversationOut, **error_responses(401, 404, 409)})
@require_permission(Permission.WRITE_CONVERSATIONS)
def claim_conversation(path: ConversationPath):
    """Take an unassigned conversation (one's own: no change). Someone else's: 404 for a USER, 409 for an ADMIN."""
    with session_scope() as session:
        return service.claim_conversation(session, current_principal(), path.conversation_id).model_dump(mode="json")


@api.post(
    "/<uuid:conversation_id>/messages",
    responses={201: SecretaryMessageOut, **error_responses(401, 404, 409, 422, 502, 503)},
)
@require_permission(Permission.SEND_MESSAGES)
def send_message(path: ConversationPath, body: SecretaryMessageCreate, header: IdempotencyHeader):
    """Write to the patient (text, template or file) and pause the bot. Idempotent under `Idempotency-Key`.

    The message is stored before it is sent: if WhatsApp fails (502) it stays, and repeating the request with the
    same key (returned in the `Idempotency-Key` header) sends it. A contact who opted out gets nothing: 409.
    """
    key = header.idempotency_key or str(uuid.uuid4())
    with WahaClient.from_settings() as waha:
        reply = human_reply.send_secretary_message(current_principal(), path.conversation_id, body, key, waha)
    parts = [MessageOut.model_validate(message) for message in reply.messages]
    out = SecretaryMessageOut(**dict(parts[0]), parts=parts)
    headers = {human_reply.IDEMPOTENCY_HEADER: key, "Idempotent-Replayed": str(reply.replayed).lower()}
    return out.model_dump(mode="json"), 201, headers


@api.post("/<uuid:conversation_id>/resume-bot", responses={200: ConversationOut, **error_responses(401, 404)})
@require_permission(Permission.WRITE_CONVERSATIONS)
def resume_bot(path: ConversationPath):
    """Hand the chat back to the bot: it answers the patient's next message. Audited."""
    with session_scope() as session:
        return human_reply.resume_bot(session, current_principal(), path.conversation_id).model_dump(mode="json")
