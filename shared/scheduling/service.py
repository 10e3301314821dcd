"""Scheduling, listing and cancelling messages for later (card 120). Sending them is the scheduler's job."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.conversations.models import Conversation
from shared.db import utcnow
from shared.errors import BadRequest, Conflict, NotFound
from shared.pagination import Page, paginate
from shared.scheduling.models import ScheduledMessage, ScheduledStatus
from shared.scheduling.schemas import ScheduledMessageCreate, ScheduledMessageOut, ScheduledMessageQuery
from shared.whatsapp.phone import list_ninth_digit_variants, normalize_phone

MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 10, 15


def schedule_message(session: Session, data: ScheduledMessageCreate, actor: Principal) -> ScheduledMessage:
    """Store a message to send later; a time in the past is refused, and so is a contact who opted out."""
    if data.scheduled_at <= utcnow():
        raise BadRequest("scheduled_at is in the past")
    conversation = _conversation_for(session, data, actor)
    phone = conversation.phone_number if conversation and conversation.phone_number else _phone(data.phone or "")
    if conversation is not None and conversation.opted_out_at is not None:
        raise Conflict("this contact opted out of messages (LGPD consent); nothing was scheduled")
    message = ScheduledMessage(
        user_id=actor.user_id,
        conversation_id=conversation.id if conversation else None,
        phone=phone,
        content=data.content,
        scheduled_at=data.scheduled_at,
    )
    session.add(message)
    session.flush()
    return message


def list_scheduled(session: Session, query: ScheduledMessageQuery, actor: Principal) -> Page[ScheduledMessageOut]:
    """A USER's own scheduled messages (an ADMIN's choice of anyone's), soonest first."""
    statement = select(ScheduledMessage).order_by(ScheduledMessage.scheduled_at, ScheduledMessage.id)
    owner = query.user_id if actor.is_admin else actor.user_id
    if owner is not None:
        statement = statement.where(ScheduledMessage.user_id == owner)
    if query.status is not None:
        statement = statement.where(ScheduledMessage.status == query.status)
    if query.date_from is not None:
        statement = statement.where(ScheduledMessage.scheduled_at >= query.date_from)
    if query.date_to is not None:
        statement = statement.where(ScheduledMessage.scheduled_at < query.date_to)
    return paginate(session, statement, query, ScheduledMessageOut.model_validate)


def get_scheduled(session: Session, scheduled_id: uuid.UUID, actor: Principal) -> ScheduledMessage:
    """One scheduled message; someone else's is 404 for a USER, so its existence does not leak."""
    message = session.get(ScheduledMessage, scheduled_id)
    if message is None or not (actor.is_admin or message.user_id == actor.user_id):
        raise NotFound("scheduled message not found")
    return message


def cancel_scheduled(session: Session, scheduled_id: uuid.UUID, actor: Principal) -> ScheduledMessage:
    """Cancel a pending message (its author or an ADMIN); audited."""
    message = get_scheduled(session, scheduled_id, actor)
    if message.status is not ScheduledStatus.PENDING:
        raise Conflict(f"only a PENDING message can be cancelled; this one is {message.status.value}")
    message.status, message.cancelled_at, message.cancelled_by_user_id = (
        ScheduledStatus.CANCELLED,
        utcnow(),
        actor.user_id,
    )
    record_audit(
        session,
        actor,
        "scheduled_message.cancel",
        "scheduled_message",
        message.id,
        before={"status": "PENDING"},
        after={"status": "CANCELLED"},
    )
    return message


def _conversation_for(session: Session, data: ScheduledMessageCreate, actor: Principal) -> Conversation | None:
    if data.conversation_id is not None:
        conversation = session.get(Conversation, data.conversation_id)
        if conversation is None or not (actor.is_admin or conversation.assigned_to_user_id == actor.user_id):
            raise NotFound("conversation not found")
        return conversation
    variants = list_ninth_digit_variants(_phone(data.phone or ""))
    return session.scalars(
        select(Conversation).where(Conversation.phone_number.in_(variants)).order_by(Conversation.created_at)
    ).first()


def _phone(raw: str) -> str:
    digits = normalize_phone(raw)
    if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
        raise BadRequest("phone must have 10 to 15 digits, country code included (e.g. 5511999999999)")
    return digits
