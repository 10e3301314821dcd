"""Builders for metrics tests: a clinic written row by row at the instants a test names, so that every expected
number can be counted by hand. Messages must be added in time order within a conversation (as they arrive in
production), since the rollup triggers follow arrival order."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shared.conversations.models import (
    Conversation,
    ConversationMessage,
    ConversationStatus,
    MessageDirection,
    SenderKind,
)
from shared.feedback.models import Feedback
from shared.leads.models import Lead, LeadSource, LeadStatus

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def at(text: str, zone: ZoneInfo = SAO_PAULO) -> datetime:
    """'2026-11-02 23:59' on the wall clock of `zone` (São Paulo unless told) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def add_conversation(
    session: Session,
    *,
    created_at: datetime,
    assigned_to: uuid.UUID | None = None,
    status: ConversationStatus = ConversationStatus.ACTIVE,
    name: str | None = None,
) -> Conversation:
    number = f"55119{uuid.uuid4().int % 10**8:08d}"
    conversation = Conversation(
        chat_id=f"{number}@c.us",
        phone_number=number,
        name=name,
        status=status,
        assigned_to_user_id=assigned_to,
        created_at=created_at,
        last_message_at=created_at,
    )
    session.add(conversation)
    session.flush()
    return conversation


def add_message(
    session: Session,
    conversation: Conversation,
    when: datetime,
    sender: SenderKind,
    body: str = "mensagem",
    user_id: uuid.UUID | None = None,
) -> ConversationMessage:
    direction = MessageDirection.INBOUND if sender is SenderKind.PATIENT else MessageDirection.OUTBOUND
    message = ConversationMessage(
        conversation_id=conversation.id,
        direction=direction,
        sender_kind=sender,
        sender_user_id=user_id,
        body=body,
        created_at=when,
        processed_at=when if sender is SenderKind.PATIENT else None,
    )
    session.add(message)
    session.flush()  # one INSERT at a time, in the order the test wrote them
    conversation.last_message_at = when
    return message


def add_lead(
    session: Session,
    *,
    created_at: datetime,
    conversation: Conversation | None = None,
    status: LeadStatus = LeadStatus.NEW,
    source: LeadSource = LeadSource.WHATSAPP,
    assigned_to: uuid.UUID | None = None,
    maturity: int = 0,
    converted_at: datetime | None = None,
    deleted_at: datetime | None = None,
) -> Lead:
    number = conversation.phone_number if conversation else f"55119{uuid.uuid4().int % 10**8:08d}"
    lead = Lead(
        conversation_id=conversation.id if conversation else None,
        phone_number=number,
        status=status,
        source=source,
        assigned_to_user_id=assigned_to,
        maturity_score=maturity,
        created_at=created_at,
        converted_at=converted_at,
        deleted_at=deleted_at,
    )
    session.add(lead)
    session.flush()
    return lead


def add_feedback(session: Session, conversation: Conversation, score: int, created_at: datetime) -> Feedback:
    feedback = Feedback(conversation_id=conversation.id, nonce=uuid.uuid4().hex, score=score, created_at=created_at)
    session.add(feedback)
    session.flush()
    return feedback


def money(value: str) -> Decimal:
    return Decimal(value)
