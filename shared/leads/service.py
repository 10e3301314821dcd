"""Use cases of leads for the secretary API: list, read, create, change, annotate, delete and restore.

A USER sees and changes only the leads assigned to her; any other lead, like a soft-deleted one, is "not found".
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.conversations.models import Conversation
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, NotFound
from shared.leads.duplicates import notify_duplicates
from shared.leads.models import InteractionType, Lead, LeadInteraction, LeadStatus
from shared.leads.schemas import (
    InteractionCreate,
    LeadConversationOut,
    LeadCreate,
    LeadDetailOut,
    LeadInteractionOut,
    LeadListQuery,
    LeadOut,
    LeadUpdate,
    digits_of,
)
from shared.leads.status import ensure_can_move
from shared.metrics import live
from shared.pagination import Page, paginate
from shared.users.models import User
from shared.users.service import require_active_user
from shared.webhooks.dispatch import emit_event
from shared.webhooks.events import LEAD_CREATED
from shared.webhooks.payloads import lead_data

MAX_INTERACTIONS_SHOWN = 100
AUDIT_ENTITY = "lead"
LEAD_NOT_FOUND = "Lead not found"


def _visible_lead(session: Session, lead_id: uuid.UUID, actor: Principal, *, for_update: bool = False) -> Lead:
    statement = select(Lead).where(Lead.id == lead_id, Lead.deleted_at.is_(None))
    if not actor.is_admin:
        statement = statement.where(Lead.assigned_to_user_id == actor.user_id)
    if for_update:
        # Two secretaries changing the same lead at once must see each other's status, not overwrite it.
        statement = statement.with_for_update()
    lead = session.scalars(statement).one_or_none()
    if lead is None:
        raise NotFound(LEAD_NOT_FOUND)
    return lead


def _assignee_filter(query: LeadListQuery, actor: Principal) -> list[ColumnElement[bool]]:
    if not actor.is_admin:
        if query.unassigned or query.assigned_to not in (None, actor.user_id):
            raise Forbidden("Only an ADMIN may list leads by another assignee or unassigned leads")
        return [Lead.assigned_to_user_id == actor.user_id]
    if query.assigned_to is not None:
        return [Lead.assigned_to_user_id == query.assigned_to]
    if query.unassigned is not None:
        return [Lead.assigned_to_user_id.is_(None) if query.unassigned else Lead.assigned_to_user_id.is_not(None)]
    return []


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search_filter(search: str) -> ColumnElement[bool]:
    matches = [Lead.name.ilike(_like(search), escape="\\")]
    # Phones are stored as digits: "(11) 98765" should find 5511987654321.
    if digits := digits_of(search):
        matches.append(Lead.phone_number.like(_like(digits), escape="\\"))
    return or_(*matches)


def list_leads(session: Session, query: LeadListQuery, actor: Principal) -> Page[LeadOut]:
    """The visible, not deleted leads, newest first, filtered and paginated."""
    filters = [Lead.deleted_at.is_(None), *_assignee_filter(query, actor)]
    if query.status:
        filters.append(Lead.status.in_(query.status))
    if query.source is not None:
        filters.append(Lead.source == query.source)
    if query.min_maturity is not None:
        filters.append(Lead.maturity_score >= query.min_maturity)
    if query.max_maturity is not None:
        filters.append(Lead.maturity_score <= query.max_maturity)
    if query.search:
        filters.append(_search_filter(query.search))
    statement = select(Lead).where(*filters).order_by(Lead.created_at.desc(), Lead.id)
    return paginate(session, statement, query, LeadOut.model_validate)


def get_lead_detail(session: Session, lead_id: uuid.UUID, actor: Principal) -> LeadDetailOut:
    """One lead with its conversation's summary and its latest interactions."""
    lead = _visible_lead(session, lead_id, actor)
    conversation = session.get(Conversation, lead.conversation_id) if lead.conversation_id else None
    interactions = session.scalars(
        select(LeadInteraction)
        .where(LeadInteraction.lead_id == lead.id)
        .order_by(LeadInteraction.created_at.desc(), LeadInteraction.id.desc())
        .limit(MAX_INTERACTIONS_SHOWN)
    )
    return LeadDetailOut(
        **LeadOut.model_validate(lead).model_dump(),
        conversation=LeadConversationOut.model_validate(conversation) if conversation else None,
        interactions=[LeadInteractionOut.model_validate(item) for item in interactions],
    )


def _record(
    session: Session,
    lead: Lead,
    actor: Principal,
    kind: InteractionType,
    notes: str | None,
    details: dict[str, Any],
) -> LeadInteraction:
    interaction = LeadInteraction(
        lead_id=lead.id, user_id=actor.user_id, interaction_type=kind, notes=notes, details=details
    )
    session.add(interaction)
    return interaction


def _audit(session: Session, actor: Principal, action: str, lead: Lead, *, before: dict | None, after: dict) -> None:
    record_audit(session, actor, action, AUDIT_ENTITY, lead.id, before=before, after=after)


def _snapshot(lead: Lead) -> dict[str, Any]:
    assignee = str(lead.assigned_to_user_id) if lead.assigned_to_user_id else None
    return {
        "name": lead.name,
        "status": lead.status.value,
        "source": lead.source.value,
        "assigned_to_user_id": assignee,
    }


def create_lead(session: Session, data: LeadCreate, actor: Principal) -> Lead:
    """A lead typed in by the front desk; a USER's lead is hers, an ADMIN's goes to whom she names (or nobody)."""
    assignee_id = data.assigned_to_user_id if actor.is_admin else actor.user_id
    if not actor.is_admin and data.assigned_to_user_id not in (None, actor.user_id):
        raise Forbidden("Only an ADMIN may assign a lead to someone else")
    assignee = require_active_user(session, assignee_id, "assigned_to_user_id") if assignee_id else None
    lead = Lead(
        name=data.name,
        phone_number=data.phone_number,
        email=data.email,
        status=LeadStatus.NEW,
        source=data.source,
        maturity_score=data.maturity_score,
        notes=data.notes,
        assigned_to_user_id=assignee_id,
    )
    session.add(lead)
    session.flush()
    if assignee is not None:
        details = {"from": None, "to": str(assignee.id)}
        _record(session, lead, actor, InteractionType.ASSIGNMENT, f"Atribuído a {assignee.full_name}", details)
    _audit(session, actor, "lead.created", lead, before=None, after=_snapshot(lead))
    emit_event(session, LEAD_CREATED, lead_data(lead))
    live.announce_lead_created(session, lead)
    notify_duplicates(session, lead)
    session.flush()
    return lead


def _change_status(session: Session, lead: Lead, target: LeadStatus, actor: Principal) -> None:
    before = lead.status
    ensure_can_move(before, target)
    lead.status = target
    if target is LeadStatus.SCHEDULED:
        lead.converted_at = utcnow()
        live.announce_lead_converted(session, lead)
    details = {"from": before.value, "to": target.value}
    _record(session, lead, actor, InteractionType.STATUS_CHANGE, f"Status: {before} → {target}", details)
    _audit(session, actor, "lead.status_changed", lead, before={"status": before.value}, after={"status": target.value})


def _assign(session: Session, lead: Lead, assignee: User | None, actor: Principal) -> None:
    before = str(lead.assigned_to_user_id) if lead.assigned_to_user_id else None
    lead.assigned_to_user_id = assignee.id if assignee else None
    after = str(assignee.id) if assignee else None
    notes = f"Atribuído a {assignee.full_name}" if assignee else "Atribuição removida"
    _record(session, lead, actor, InteractionType.ASSIGNMENT, notes, {"from": before, "to": after})
    _audit(
        session,
        actor,
        "lead.assigned",
        lead,
        before={"assigned_to_user_id": before},
        after={"assigned_to_user_id": after},
    )


def _new_assignee(session: Session, lead: Lead, changes: LeadUpdate, actor: Principal) -> tuple[bool, User | None]:
    """(whether the assignee changes, the new one); raises before anything is written when it may not."""
    wanted = changes.assigned_to_user_id
    if "assigned_to_user_id" not in changes.model_fields_set or wanted == lead.assigned_to_user_id:
        return False, None
    if not actor.is_admin:
        raise Forbidden("Only an ADMIN may change who a lead is assigned to")
    return True, require_active_user(session, wanted, "assigned_to_user_id") if wanted else None


def update_lead(session: Session, lead_id: uuid.UUID, changes: LeadUpdate, actor: Principal) -> Lead:
    """Apply the fields sent; status, assignee and notes changes leave an interaction (and the first two an audit)."""
    lead = _visible_lead(session, lead_id, actor, for_update=True)
    sent = changes.model_fields_set
    reassign, assignee = _new_assignee(session, lead, changes, actor)
    if "status" in sent and changes.status is not lead.status:
        _change_status(session, lead, changes.status, actor)  # the first write: every check above has passed
    if reassign:
        _assign(session, lead, assignee, actor)
    if "notes" in sent and changes.notes != lead.notes:
        _record(session, lead, actor, InteractionType.NOTE, changes.notes, {"previous": lead.notes})
        lead.notes = changes.notes
    for field in ("name", "email"):
        if field in sent:
            setattr(lead, field, getattr(changes, field))
    session.flush()  # so that updated_at and converted_at are final in the answer
    return lead


def add_interaction(session: Session, lead_id: uuid.UUID, data: InteractionCreate, actor: Principal) -> LeadInteraction:
    """A note, call or email the secretary records on the lead's history."""
    lead = _visible_lead(session, lead_id, actor)
    interaction = _record(session, lead, actor, InteractionType(data.interaction_type), data.notes, data.details)
    session.flush()
    return interaction


def delete_lead(session: Session, lead_id: uuid.UUID, actor: Principal) -> None:
    """Soft delete (card 105): the row and its history stay; every listing and route then ignores it."""
    lead = _visible_lead(session, lead_id, actor, for_update=True)
    lead.deleted_at = utcnow()
    _audit(
        session,
        actor,
        "lead.deleted",
        lead,
        before={"deleted_at": None},
        after={"deleted_at": lead.deleted_at.isoformat()},
    )


def restore_lead(session: Session, lead_id: uuid.UUID, actor: Principal) -> Lead:
    """Bring a soft-deleted lead back as it was; 409 if it is not deleted."""
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise NotFound(LEAD_NOT_FOUND)
    if lead.deleted_at is None:
        raise Conflict("This lead is not deleted")
    before = lead.deleted_at.isoformat()
    lead.deleted_at = None
    _audit(session, actor, "lead.restored", lead, before={"deleted_at": before}, after={"deleted_at": None})
    session.flush()
    return lead
