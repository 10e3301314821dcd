"""Reading the edit history (card 123) of what the caller may see: a lead (with the leads merged into it) or a
conversation. The rows themselves are written by Postgres triggers; see shared/audit/history.py."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from shared.audit.history import EditOut, list_edits
from shared.auth import Principal
from shared.conversations.service import visible_conversation
from shared.leads.merge import lead_family
from shared.leads.service import _visible_lead
from shared.pagination import Page, PageQuery


def lead_history(session: Session, lead_id: uuid.UUID, actor: Principal, query: PageQuery) -> Page[EditOut]:
    """The lead's edits, newest first, those of the leads merged into it included; 404 if not visible."""
    lead = _visible_lead(session, lead_id, actor)
    return list_edits(session, "lead", lead_family(session, lead.id), query)


def conversation_history(
    session: Session, conversation_id: uuid.UUID, actor: Principal, query: PageQuery
) -> Page[EditOut]:
    """The conversation's edits, newest first; 404 if not visible."""
    conversation = visible_conversation(session, actor, conversation_id)
    return list_edits(session, "conversation", [conversation.id], query)
