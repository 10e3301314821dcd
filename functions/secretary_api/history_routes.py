"""Edit history of leads and conversations, and the lead's journey (cards 123, 150).

Only who may see the lead or conversation reads them: a USER's own, anyone's for an ADMIN (else 404).
"""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.audit.history import EditOut
from shared.auth import current_principal, require_permission
from shared.conversations.schemas import ConversationPath
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.leads import history, journey
from shared.leads.schemas import JourneyQuery, LeadJourneyOut, LeadPath
from shared.pagination import Page, PageQuery
from shared.users.permissions import Permission

api = APIBlueprint(
    "history",
    __name__,
    url_prefix=f"{API_PREFIX}",
    abp_tags=[Tag(name="history")],
    abp_security=SECURED,
)


@api.get("/leads/<uuid:lead_id>/history", responses={200: Page[EditOut], **error_responses(401, 403, 404, 422)})
@require_permission(Permission.READ_LEADS)
def get_lead_history(path: LeadPath, query: PageQuery):
    """Every change to the lead's fields, newest first, with who made it (leads merged into it included)."""
    with session_scope() as session:
        page = history.lead_history(session, path.lead_id, current_principal(), query)
        return page.model_dump(mode="json")


@api.get(
    "/conversations/<uuid:conversation_id>/history",
    responses={200: Page[EditOut], **error_responses(401, 403, 404, 422)},
)
@require_permission(Permission.READ_CONVERSATIONS)
def get_conversation_history(path: ConversationPath, query: PageQuery):
    """Every change to the conversation's fields, newest first, with who made it (null: the assistant)."""
    with session_scope() as session:
        page = history.conversation_history(session, path.conversation_id, current_principal(), query)
        return page.model_dump(mode="json")


@api.get("/leads/<uuid:lead_id>/journey", responses={200: LeadJourneyOut, **error_responses(401, 403, 404, 422)})
@require_permission(Permission.READ_LEADS)
def get_lead_journey(path: LeadPath, query: JourneyQuery):
    """The lead's steps oldest first (messages, creation, status changes, assignments, conversion), timed."""
    with session_scope() as session:
        return journey.lead_journey(session, path.lead_id, current_principal(), query.limit).model_dump(mode="json")
