"""The lead's journey (card 150): every step from the patient's first message to the conversion, oldest first.

Steps come from the lead itself (created, converted), its interactions (status changes, assignments, notes,
calls, emails, merges) and its conversation's messages, for the lead and every lead merged into it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.conversations.models import ConversationMessage, MessageDirection, MessageKind, SenderKind
from shared.leads.merge import lead_family
from shared.leads.models import InteractionType, Lead, LeadInteraction, LeadStatus
from shared.leads.schemas import JourneyStepOut, LeadJourneyOut
from shared.leads.service import _visible_lead
from shared.users.models import User

PREVIEW_CHARS = 200
INTERACTION_EVENTS = {InteractionType.STATUS_CHANGE: "status_changed", InteractionType.ASSIGNMENT: "assigned"}
SENDERS = {SenderKind.PATIENT: "patient", SenderKind.BOT: "bot", SenderKind.SECRETARY: "secretary"}


@dataclass
class Step:
    timestamp: datetime
    event: str
    details: str | None
    actor: str
    user_id: uuid.UUID | None = None


def lead_journey(session: Session, lead_id: uuid.UUID, actor: Principal, limit: int) -> LeadJourneyOut:
    """The visible lead's steps, oldest first, with the time since the previous one; at most `limit` messages."""
    lead = _visible_lead(session, lead_id, actor)
    leads = list(session.scalars(select(Lead).where(Lead.id.in_(lead_family(session, lead.id)))))
    messages, truncated = _message_steps(session, leads, limit)
    steps = sorted(
        [*messages, *_lead_steps(leads), *_interaction_steps(session, leads)], key=lambda step: step.timestamp
    )
    return LeadJourneyOut(
        lead_id=lead.id,
        started_at=steps[0].timestamp,
        total_seconds=(steps[-1].timestamp - steps[0].timestamp).total_seconds(),
        messages_truncated=truncated,
        journey=_with_gaps(steps, _names(session, steps)),
    )


def _lead_steps(leads: list[Lead]) -> list[Step]:
    steps = []
    for lead in leads:
        merged = f", mesclado depois em {lead.merged_into_id}" if lead.merged_into_id else ""
        details = f"Lead {lead.name or lead.phone_number} (origem {lead.source}){merged}"
        steps.append(Step(lead.created_at, "lead_created", details, "system"))
    return steps


def _interaction_steps(session: Session, leads: list[Lead]) -> list[Step]:
    interactions = session.scalars(
        select(LeadInteraction).where(LeadInteraction.lead_id.in_([lead.id for lead in leads]))
    ).all()
    steps = [_interaction_step(item) for item in interactions]
    if not any(step.event == "converted" for step in steps):
        # A conversion stamped without its status change interaction (another path set it) still shows.
        steps += [
            Step(lead.converted_at, "converted", f"Status: {LeadStatus.SCHEDULED}", "system")
            for lead in leads
            if lead.converted_at
        ]
    return steps


def _interaction_step(item: LeadInteraction) -> Step:
    event = INTERACTION_EVENTS.get(item.interaction_type, "interaction")
    details = item.notes
    if event == "status_changed" and item.details.get("to") == LeadStatus.SCHEDULED:
        event = "converted"
    elif "merged_from" in item.details:
        event = "merged"
    elif event == "interaction":
        details = f"{item.interaction_type}: {item.notes or ''}".rstrip(": ")
    return Step(item.created_at, event, details, "secretary" if item.user_id else "system", item.user_id)


def _message_steps(session: Session, leads: list[Lead], limit: int) -> tuple[list[Step], bool]:
    conversations = [lead.conversation_id for lead in leads if lead.conversation_id]
    if not conversations:
        return [], False
    rows = session.scalars(
        select(ConversationMessage)
        .where(ConversationMessage.conversation_id.in_(conversations))
        .order_by(ConversationMessage.created_at, ConversationMessage.id)
        .limit(limit + 1)
    ).all()
    steps, first_seen = [], False
    for message in rows[:limit]:
        inbound = message.direction is MessageDirection.INBOUND
        event = "message_received" if inbound else "message_sent"
        if inbound and not first_seen:
            event, first_seen = "first_message", True
        actor = SENDERS[message.sender_kind]
        steps.append(Step(message.created_at, event, _preview(message), actor, message.sender_user_id))
    return steps, len(rows) > limit


def _preview(message: ConversationMessage) -> str:
    if message.kind is not MessageKind.TEXT or not message.body:
        return f"[{message.kind}] {message.body or ''}".strip()[:PREVIEW_CHARS]
    body = message.body
    return body if len(body) <= PREVIEW_CHARS else body[: PREVIEW_CHARS - 1].rstrip() + "…"


def _names(session: Session, steps: list[Step]) -> dict[uuid.UUID, str]:
    ids = {step.user_id for step in steps if step.user_id}
    return dict(session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())


def _with_gaps(steps: list[Step], names: dict[uuid.UUID, str]) -> list[JourneyStepOut]:
    out, previous = [], None
    for step in steps:
        gap = (step.timestamp - previous).total_seconds() if previous else None
        name = names.get(step.user_id) if step.user_id else None
        out.append(
            JourneyStepOut(
                timestamp=step.timestamp,
                event=step.event,
                details=step.details,
                actor=step.actor,
                user_id=step.user_id,
                user_name=name,
                seconds_since_previous=gap,
            )
        )
        previous = step.timestamp
    return out
