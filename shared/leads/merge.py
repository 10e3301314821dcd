"""Merging two leads of one patient (card 124): the target keeps everything the source had, nothing is lost.

Every row that points to the source (its interactions, notifications, leads merged into it before, and any
table that later gains a foreign key to leads) is moved to the target, found from the metadata rather than
listed by hand. The source is soft-deleted with `merged_into_id` set, so its own row and edits stay readable
from the target's journey and history.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.db import Base, utcnow
from shared.errors import Conflict
from shared.leads.models import InteractionType, Lead, LeadInteraction
from shared.leads.schemas import LeadMerge, LeadMergeOut, LeadOut
from shared.leads.service import _visible_lead

# The target's empty fields that the source fills (the conversation link is moved separately: it is unique).
FILLED = ("name", "email", "notes", "assigned_to_user_id", "converted_at")


def lead_family(session: Session, lead_id: uuid.UUID) -> list[uuid.UUID]:
    """The lead and every lead merged into it (merges re-point earlier ones, so one level is all of them)."""
    return [lead_id, *session.scalars(select(Lead.id).where(Lead.merged_into_id == lead_id).order_by(Lead.created_at))]


def merge_leads(session: Session, data: LeadMerge, actor: Principal) -> LeadMergeOut:
    """Merge the source lead into the target: same phone key or 409; both must be visible to the actor (404)."""
    source, target = _lock_pair(session, data, actor)
    if source.phone_key is None or source.phone_key != target.phone_key:
        raise Conflict("Only leads with the same phone number can be merged")
    before = {"source": _snapshot(source), "target": _snapshot(target)}
    moved = _move_references(session, source.id, target.id)
    _fill_target(session, source, target)
    source.deleted_at, source.merged_into_id = utcnow(), target.id
    session.add(
        LeadInteraction(
            lead_id=target.id,
            user_id=actor.user_id,
            interaction_type=InteractionType.NOTE,
            notes=f"Lead mesclado: {source.name or source.phone_number} ({source.id}) foi unido a este lead.",
            details={"merged_from": str(source.id), "source": before["source"]},
        )
    )
    session.flush()
    after = {"source": _snapshot(source), "target": _snapshot(target)}
    record_audit(session, actor, "lead.merge", "lead", target.id, before=before, after=after)
    return LeadMergeOut(lead=LeadOut.model_validate(target), merged_lead_id=source.id, moved=moved)


def _lock_pair(session: Session, data: LeadMerge, actor: Principal) -> tuple[Lead, Lead]:
    # Locked in id order, so two merges of the same pair wait for each other instead of deadlocking.
    ids = sorted((data.source_id, data.target_id))
    locked = {lead_id: _visible_lead(session, lead_id, actor, for_update=True) for lead_id in ids}
    return locked[data.source_id], locked[data.target_id]


def _move_references(session: Session, source_id: uuid.UUID, target_id: uuid.UUID) -> dict[str, int]:
    moved: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column is not Lead.__table__.c.id:
                continue
            column = key.parent
            result = session.execute(update(table).where(column == source_id).values({column.name: target_id}))
            if result.rowcount:
                moved[f"{table.name}.{column.name}"] = result.rowcount
    return moved


def _fill_target(session: Session, source: Lead, target: Lead) -> None:
    for field in FILLED:
        if getattr(target, field) is None and getattr(source, field) is not None:
            setattr(target, field, getattr(source, field))
    target.maturity_score = max(target.maturity_score, source.maturity_score)
    if target.conversation_id is None and source.conversation_id is not None:
        conversation_id, source.conversation_id = source.conversation_id, None
        session.flush()  # the link is unique: the source lets go before the target takes it
        target.conversation_id = conversation_id


def _snapshot(lead: Lead) -> dict[str, Any]:
    return {
        "id": str(lead.id),
        "name": lead.name,
        "phone_number": lead.phone_number,
        "email": lead.email,
        "status": lead.status.value,
        "source": lead.source.value,
        "maturity_score": lead.maturity_score,
        "notes": lead.notes,
        "assigned_to_user_id": str(lead.assigned_to_user_id) if lead.assigned_to_user_id else None,
        "conversation_id": str(lead.conversation_id) if lead.conversation_id else None,
        "converted_at": lead.converted_at.isoformat() if lead.converted_at else None,
        "deleted_at": lead.deleted_at.isoformat() if lead.deleted_at else None,
    }
