"""Handing a patient to a secretary: the lead, the assignment, the notification (cards 084, 098, 100)."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import case, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.conversations.models import Conversation, ConversationStatus
from shared.leads.duplicates import notify_duplicates
from shared.leads.models import InteractionType, Lead, LeadInteraction, LeadSource, LeadStatus
from shared.metrics import live
from shared.notifications.models import Notification, NotificationPriority, NotificationType
from shared.users.models import Role, User, UserStatus
from shared.webhooks.dispatch import emit_event
from shared.webhooks.events import LEAD_CREATED
from shared.webhooks.payloads import lead_data

log = logging.getLogger(__name__)
OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.ENGAGED, LeadStatus.INTERESTED, LeadStatus.READY)
_ASSIGNMENT_LOCK = 7_204_113  # pg_advisory_xact_lock key: one assignment decision at a time


def pick_secretary(session: Session) -> uuid.UUID | None:
    """The ACTIVE secretary with the fewest open leads, the least recently given one on a tie (card 098).

    Admins receive leads only when no secretary is active. The advisory lock makes two simultaneous handoffs
    see each other's assignment instead of both picking the same person.
    """
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ASSIGNMENT_LOCK})
    is_open = (Lead.deleted_at.is_(None)) & Lead.status.in_(OPEN_LEAD_STATUSES)
    load = (
        select(
            User.id,
            func.count(Lead.id).filter(is_open).label("open_leads"),
            func.max(Lead.created_at).label("last_given"),
        )
        .outerjoin(Lead, Lead.assigned_to_user_id == User.id)
        .where(User.status == UserStatus.ACTIVE)
        .group_by(User.id, User.role)
        .order_by(
            case((User.role == Role.USER, 0), else_=1), text("open_leads"), text("last_given ASC NULLS FIRST"), User.id
        )
        .limit(1)
    )
    row = session.execute(load).first()
    return row.id if row else None


def hand_off(
    session: Session,
    conversation: Conversation,
    reason: str,
    *,
    create_lead: bool,
    patient_name: str | None = None,
    maturity: int | None = None,
    notify: bool = True,
) -> Lead | None:
    """Put the conversation in a secretary's hands, with a lead when the patient wants an appointment."""
    lead = (
        _lead_of(session, conversation, patient_name, maturity)
        if create_lead
        else _existing_lead(session, conversation)
    )
    new_lead = lead is not None and lead.assigned_to_user_id is None
    assignee = conversation.assigned_to_user_id or (lead and lead.assigned_to_user_id) or pick_secretary(session)
    if lead is not None and lead.assigned_to_user_id is None and assignee is not None:
        lead.assigned_to_user_id = assignee
        session.add(
            LeadInteraction(
                lead_id=lead.id,
                interaction_type=InteractionType.ASSIGNMENT,
                notes=f"Atribuído automaticamente ({reason})",
                details={"reason": reason},
            )
        )
    waiting_now = conversation.status != ConversationStatus.WAITING_SECRETARY
    conversation.status = ConversationStatus.WAITING_SECRETARY
    conversation.assigned_to_user_id = assignee
    if waiting_now:
        live.announce_conversation_status(session, conversation)
    if assignee is None:
        log.warning("handoff with nobody to assign: no active user", extra={"conversation_id": str(conversation.id)})
    elif notify and (waiting_now or new_lead):
        _notify_handoff(session, conversation, assignee, reason, lead if new_lead else None)
    return lead


def mark_urgent(session: Session, conversation: Conversation, reason: str | None) -> bool:
    """Flag the conversation urgent and send a priority notification, once per episode (card 100)."""
    if conversation.is_urgent:
        return False
    conversation.is_urgent = True
    conversation.urgency_reason = reason
    recipients = [conversation.assigned_to_user_id] if conversation.assigned_to_user_id else _active_users(session)
    who = conversation.name or conversation.phone_number or "Paciente"
    lead = _existing_lead(session, conversation)
    session.add_all(
        Notification(
            user_id=user_id,
            type=NotificationType.URGENT,
            priority=NotificationPriority.HIGH,
            title=f"Urgente: {who}",
            message=reason or "O paciente relatou um sinal de urgência.",
            conversation_id=conversation.id,
            lead_id=lead.id if lead else None,
        )
        for user_id in recipients
    )
    return True


def _lead_of(session: Session, conversation: Conversation, name: str | None, maturity: int | None) -> Lead:
    inserted = session.scalar(
        insert(Lead)
        .values(
            id=uuid.uuid4(),
            conversation_id=conversation.id,
            name=name or conversation.name,
            phone_number=conversation.phone_number or conversation.chat_id.split("@")[0],
            status=LeadStatus.NEW,
            source=LeadSource.WHATSAPP,
            maturity_score=maturity or 0,
        )
        .on_conflict_do_nothing(index_elements=["conversation_id"])
        .returning(Lead.id)
    )
    lead = session.scalars(select(Lead).where(Lead.conversation_id == conversation.id)).one()
    if inserted is not None:
        emit_event(session, LEAD_CREATED, lead_data(lead))
        live.announce_lead_created(session, lead)  # described at commit, with the assignee the handoff gives it
        notify_duplicates(session, lead)  # the patient may already be a lead under another spelling of the number
    if lead.deleted_at is not None:  # deleted by the front desk, and the patient asks again: a new lead for them
        lead.deleted_at, lead.status, lead.assigned_to_user_id = None, LeadStatus.NEW, None
        session.add(
            LeadInteraction(
                lead_id=lead.id,
                interaction_type=InteractionType.NOTE,
                notes="Reaberto: o paciente voltou a pedir atendimento.",
                details={"reopened": True},
            )
        )
    return lead


def _existing_lead(session: Session, conversation: Conversation) -> Lead | None:
    return session.scalars(
        select(Lead).where(Lead.conversation_id == conversation.id, Lead.deleted_at.is_(None))
    ).one_or_none()


def _active_users(session: Session) -> list[uuid.UUID]:
    return list(session.scalars(select(User.id).where(User.status == UserStatus.ACTIVE)))


def _notify_handoff(
    session: Session, conversation: Conversation, assignee: uuid.UUID, reason: str, lead: Lead | None
) -> None:
    who = conversation.name or conversation.phone_number or "Paciente"
    session.add(
        Notification(
            user_id=assignee,
            type=NotificationType.NEW_LEAD if lead else NotificationType.HANDOFF,
            priority=NotificationPriority.HIGH if conversation.is_urgent else NotificationPriority.NORMAL,
            title=f"Novo lead: {who}" if lead else f"Atendimento para você: {who}",
            message=_HANDOFF_REASONS.get(reason, reason),
            conversation_id=conversation.id,
            lead_id=lead.id if lead else None,
        )
    )


_HANDOFF_REASONS = {
    "schedule": "O paciente quer marcar uma consulta.",
    "reschedule": "O paciente quer remarcar uma consulta.",
    "cancel": "O paciente quer cancelar uma consulta.",
    "urgent": "O paciente relatou um sinal de urgência.",
    "complaint": "O paciente fez uma reclamação.",
    "low_confidence": "O assistente não teve certeza do que o paciente precisa.",
    "model_requested": "O assistente pediu ajuda de uma pessoa.",
    "llm_budget": "A conversa atingiu o limite diário de respostas automáticas.",
    "llm_failures": "O assistente falhou repetidamente ao responder.",
}
