"""/api/v1/tags, and the notes, tags and message search of conversations (cards 103, 104, 112).

On conversations the usual rule holds: a USER reaches only those assigned to her (anyone else's is 404).
"""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_permission
from shared.conversations import notes_tags, search
from shared.conversations.notes_schemas import (
    ConversationTagCreate,
    ConversationTagPath,
    ConversationTagsOut,
    NoteCreate,
    NoteListQuery,
    NoteOut,
    NotePath,
    NoteUpdate,
    SearchPage,
    SearchQuery,
    TagCreate,
    TagListQuery,
    TagOut,
    TagPath,
)
from shared.conversations.schemas import ConversationPath
from shared.db import session_scope
from shared.http import SECURED, error_responses
from shared.pagination import Page
from shared.users.permissions import Permission

api = APIBlueprint("tags", __name__, url_prefix="/api/v1", abp_tags=[Tag(name="tags")], abp_security=SECURED)

NOTES = "/conversations/<uuid:conversation_id>/notes"
CONVERSATION_TAGS = "/conversations/<uuid:conversation_id>/tags"
CONVERSATIONS = [Tag(name="conversations")]


@api.get("/tags", responses={200: Page[TagOut], **error_responses(401, 422)})
@require_permission(Permission.READ_CONVERSATIONS)
def list_tags(query: TagListQuery):
    """Every tag, by name."""
    with session_scope() as session:
        return notes_tags.list_tags(session, query).model_dump(mode="json")


@api.post("/tags", responses={201: TagOut, **error_responses(400, 401, 403, 409, 422)})
@require_permission(Permission.MANAGE_TAGS)
def create_tag(body: TagCreate):
    """Create a tag (MANAGE_TAGS, ADMIN by default); a name already taken (in any case) is 409."""
    with session_scope() as session:
        return notes_tags.create_tag(session, current_principal(), body).model_dump(mode="json"), 201


@api.delete("/tags/<uuid:tag_id>", responses={204: None, **error_responses(401, 403, 404)})
@require_permission(Permission.MANAGE_TAGS)
def delete_tag(path: TagPath):
    """Delete a tag; it comes off every conversation. MANAGE_TAGS; audited."""
    with session_scope() as session:
        notes_tags.delete_tag(session, current_principal(), path.tag_id)
    return "", 204


@api.get(CONVERSATION_TAGS, tags=CONVERSATIONS, responses={200: ConversationTagsOut, **error_responses(401, 404)})
@require_permission(Permission.READ_CONVERSATIONS)
def list_conversation_tags(path: ConversationPath):
    """The conversation's tags."""
    with session_scope() as session:
        return notes_tags.conversation_tags(session, current_principal(), path.conversation_id).model_dump(mode="json")


@api.post(
    CONVERSATION_TAGS,
    tags=CONVERSATIONS,
    responses={200: ConversationTagsOut, 201: ConversationTagsOut, **error_responses(400, 401, 404, 422)},
)
@require_permission(Permission.WRITE_CONVERSATIONS)
def tag_conversation(path: ConversationPath, body: ConversationTagCreate):
    """Put a tag on the conversation: 201 when added, 200 when it was already there. Answers all its tags."""
    with session_scope() as session:
        added, out = notes_tags.tag_conversation(session, current_principal(), path.conversation_id, body.tag_id)
        return out.model_dump(mode="json"), 201 if added else 200


@api.delete(
    f"{CONVERSATION_TAGS}/<uuid:tag_id>", tags=CONVERSATIONS, responses={204: None, **error_responses(401, 404)}
)
@require_permission(Permission.WRITE_CONVERSATIONS)
def untag_conversation(path: ConversationTagPath):
    """Take a tag off the conversation (one that is not on it: 204 all the same)."""
    with session_scope() as session:
        notes_tags.untag_conversation(session, current_principal(), path.conversation_id, path.tag_id)
    return "", 204


@api.get(NOTES, tags=CONVERSATIONS, responses={200: Page[NoteOut], **error_responses(401, 404, 422)})
@require_permission(Permission.READ_CONVERSATIONS)
def list_notes(path: ConversationPath, query: NoteListQuery):
    """The conversation's internal notes, newest first (never shown to the patient)."""
    with session_scope() as session:
        out = notes_tags.list_notes(session, current_principal(), path.conversation_id, query)
        return out.model_dump(mode="json")


@api.post(NOTES, tags=CONVERSATIONS, responses={201: NoteOut, **error_responses(400, 401, 404, 422)})
@require_permission(Permission.WRITE_CONVERSATIONS)
def add_note(path: ConversationPath, body: NoteCreate):
    """Write an internal note; anyone who can see the conversation may."""
    with session_scope() as session:
        return notes_tags.add_note(session, current_principal(), path.conversation_id, body).model_dump(
            mode="json"
        ), 201


@api.patch(
    f"{NOTES}/<uuid:note_id>", tags=CONVERSATIONS, responses={200: NoteOut, **error_responses(400, 401, 403, 404, 422)}
)
@require_permission(Permission.WRITE_CONVERSATIONS)
def update_note(path: NotePath, body: NoteUpdate):
    """Rewrite a note: its author or an ADMIN (403 for a colleague who can see the conversation); audited."""
    with session_scope() as session:
        out = notes_tags.update_note(session, current_principal(), path.conversation_id, path.note_id, body)
        return out.model_dump(mode="json")


@api.delete(f"{NOTES}/<uuid:note_id>", tags=CONVERSATIONS, responses={204: None, **error_responses(401, 403, 404)})
@require_permission(Permission.WRITE_CONVERSATIONS)
def delete_note(path: NotePath):
    """Delete a note: its author or an ADMIN; audited."""
    with session_scope() as session:
        notes_tags.delete_note(session, current_principal(), path.conversation_id, path.note_id)
    return "", 204


@api.get("/conversations/search", tags=CONVERSATIONS, responses={200: SearchPage, **error_responses(401, 422)})
@require_permission(Permission.READ_CONVERSATIONS)
def search_conversations(query: SearchQuery):
    """Full-text search of message bodies (Portuguese stemming), most relevant conversation first.

    One hit per conversation, its best message, with `<mark>` around the matches. A USER finds only hers.
    """
    with session_scope() as session:
        return search.search_conversations(session, current_principal(), query).model_dump(mode="json")
