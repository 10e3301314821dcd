"""What a secretary does with conversations: list, read, change status, assign and claim (cards 069-071, 102).

Visibility: an ADMIN sees every conversation, a USER only those assigned to her; anything else is "not found"
(404, not 403), so that ids of other people's patients cannot be probed. The one exception is `claim`: an
unassigned conversation can be taken by id.
"""

from __future__ import annotations

import math
import re
import uuid

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.conversations.models import (
    Conversation,
    ConversationContext,
    ConversationMessage,
    ConversationNote,
    ConversationStatus,
    ConversationTag,
    Tag,
)
from shared.conversations.notes_schemas import NoteOut, TagOut
from shared.conversations.schemas import (
    AssignmentUpdate,
    ConversationDetailOut,
    ConversationFactsOut,
    ConversationListQuery,
    ConversationOut,
    ConversationStatusUpdate,
    LastMessageOut,
    MessageOut,
)
from shared.errors import Conflict, NotFound
from shared.leads.models import Lead
from shared.metrics import live
from shared.notifications.models import Notification, NotificationPriority, NotificationType
from shared.pagination import Page
from shared.users.service import require_active_user
from shared.webhooks.dispatch import emit_event
from shared.webhooks.events import CONVERSATION_CLOSED
from shared.webhooks.payloads import conversation_data

AUDIT_ENTITY = "conversation"
PREVIEW_CHARS = 120
DETAIL_NOTES = 20
NOT_FOUND = "Conversation not found"

S = ConversationStatus
# Card 102. CLOSED only reopens: a closed chat goes through ACTIVE before anything else.
TRANSITIONS: dict[ConversationStatus, tuple[ConversationStatus, ...]] = {
    S.ACTIVE: (S.AWAITING_RESPONSE, S.WAITING_SECRETARY, S.TRANSFERRED, S.CLOSED),
    S.AWAITING_RESPONSE: (S.ACTIVE, S.WAITING_SECRETARY, S.CLOSED),
    S.WAITING_SECRETARY: (S.ACTIVE, S.TRANSFERRED, S.CLOSED),
    S.TRANSFERRED: (S.ACTIVE, S.WAITING_SECRETARY, S.CLOSED),
    S.CLOSED: (S.ACTIVE,),
}

_M = ConversationMessage


def visible_conversation(
    session: Session, actor: Principal, conversation_id: uuid.UUID, *, lock: bool = False, claimable: bool = False
) -> Conversation:
    """The conversation if `actor` may act on it (`claimable`: also when nobody has it), else NotFound."""
    statement = select(Conversation).where(Conversation.id == conversation_id)
    conversation = session.scalars(statement.with_for_update() if lock else statement).one_or_none()
    owner = conversation.assigned_to_user_id if conversation else None
    if conversation is None or not (actor.is_admin or owner == actor.user_id or (claimable and owner is None)):
        raise NotFound(NOT_FOUND)
    return conversation


def visible_to(actor: Principal) -> list[ColumnElement[bool]]:
    """The conditions that keep a USER to the conversations assigned to her (none for an ADMIN)."""
    return [] if actor.is_admin else [Conversation.assigned_to_user_id == actor.user_id]


def _search(term: str) -> ColumnElement[bool]:
    matches = [
        Conversation.name.icontains(term, autoescape=True),
        Conversation.phone_number.icontains(term, autoescape=True),
        Conversation.chat_id.icontains(term, autoescape=True),
    ]
    digits = re.sub(r"\D", "", term)
    if len(digits) >= 3 and digits != term:  # "(11) 99999-0001" finds 5511999990001
        matches.append(Conversation.phone_number.contains(digits))
    return or_(*matches)


def listing_filters(query: ConversationListQuery) -> list[ColumnElement[bool]]:
    """The list's filters as SQL conditions (the CSV export applies the same)."""
    conditions: list[ColumnElement[bool]] = []
    if query.status is not None:
        conditions.append(Conversation.status == query.status)
    if query.is_urgent is not None:
        conditions.append(Conversation.is_urgent.is_(query.is_urgent))
    if query.assigned_to is not None:
        conditions.append(Conversation.assigned_to_user_id == query.assigned_to)
    if query.unassigned is not None:
        column = Conversation.assigned_to_user_id
        conditions.append(column.is_(None) if query.unassigned else column.is_not(None))
    if query.date_from is not None:
        conditions.append(Conversation.last_message_at >= query.date_from)
    if query.date_to is not None:
        conditions.append(Conversation.last_message_at <= query.date_to)
    if query.search is not None:
        conditions.append(_search(query.search))
    if query.tag_id is not None:
        tagged = select(ConversationTag.conversation_id).where(ConversationTag.tag_id == query.tag_id)
        conditions.append(Conversation.id.in_(tagged))
    return conditions


def _preview(body: str | None) -> str | None:
    if body is None or len(body) <= PREVIEW_CHARS:
        return body
    return body[: PREVIEW_CHARS - 1].rstrip() + "…"


def _items(session: Session, conditions: list[ColumnElement[bool]], offset: int, limit: int) -> list[ConversationOut]:
    """One query: the page of conversations, each with its latest message joined laterally (no N+1)."""
    page = (
        select(Conversation)
        .where(*conditions)
        .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id)
        .offset(offset)
        .limit(limit)
        .subquery()
    )
    conversation = aliased(Conversation, page)
    last = (
        select(
            func.left(_M.body, PREVIEW_CHARS + 1).label("body"), _M.kind, _M.direction, _M.sender_kind, _M.created_at
        )
        .where(_M.conversation_id == conversation.id)
        .order_by(_M.created_at.desc(), _M.id.desc())
        .limit(1)
        .lateral("last_message")
    )
    rows = session.execute(
        select(conversation, last.c.body, last.c.kind, last.c.direction, last.c.sender_kind, last.c.created_at)
        .outerjoin(last, true())
        .order_by(conversation.last_message_at.desc().nulls_last(), conversation.id)
    ).all()
    return [_item(row[0], _last(*row[1:])) for row in rows]


def _last(body, kind, direction, sender_kind, created_at) -> LastMessageOut | None:
    if kind is None:  # the lateral join found no message
        return None
    return LastMessageOut(
        preview=_preview(body), kind=kind, direction=direction, sender_kind=sender_kind, created_at=created_at
    )


def _item(conversation: Conversation, last: LastMessageOut | None) -> ConversationOut:
    item = ConversationOut.model_validate(conversation)
    item.last_message = last
    return item


def list_conversations(session: Session, actor: Principal, query: ConversationListQuery) -> Page[ConversationOut]:
    """The conversations `actor` may see, filtered, most recent message first (never-written-to ones last)."""
    conditions = visible_to(actor) + listing_filters(query)
    total = session.scalar(select(func.count()).select_from(Conversation).where(*conditions)) or 0
    items = _items(session, conditions, (query.page - 1) * query.limit, query.limit) if total else []
    pages = math.ceil(total / query.limit) if total else 0
    return Page[ConversationOut](items=items, total=total, page=query.page, limit=query.limit, pages=pages)


def conversation_item(session: Session, conversation_id: uuid.UUID) -> ConversationOut:
    """One conversation as the listing shows it (callers have checked visibility)."""
    return _items(session, [Conversation.id == conversation_id], 0, 1)[0]


def get_conversation(
    session: Session, actor: Principal, conversation_id: uuid.UUID, messages_limit: int
) -> ConversationDetailOut:
    """The conversation with its latest messages (oldest first), the patient's facts, its lead, tags and notes."""
    conversation = visible_conversation(session, actor, conversation_id)
    latest = session.scalars(
        select(_M)
        .where(_M.conversation_id == conversation.id)
        .order_by(_M.created_at.desc(), _M.id.desc())
        .limit(messages_limit + 1)
    ).all()
    messages = list(reversed(latest[:messages_limit]))
    context = session.scalars(
        select(ConversationContext).where(ConversationContext.conversation_id == conversation.id)
    ).one_or_none()
    lead_id = session.scalar(select(Lead.id).where(Lead.conversation_id == conversation.id, Lead.deleted_at.is_(None)))
    tags = session.scalars(
        select(Tag).join(ConversationTag, ConversationTag.tag_id == Tag.id)
        .where(ConversationTag.conversation_id == conversation.id).order_by(Tag.name_key)
    ).all()  # fmt: skip
    notes = session.scalars(
        select(ConversationNote).where(ConversationNote.conversation_id == conversation.id)
        .order_by(ConversationNote.created_at.desc(), ConversationNote.id.desc()).limit(DETAIL_NOTES + 1)
    ).all()  # fmt: skip
    newest = messages[-1] if messages else None
    last = _last(newest.body, newest.kind, newest.direction, newest.sender_kind, newest.created_at) if newest else None
    item = _item(conversation, last)
    return ConversationDetailOut(
        **dict(item),
        messages=[MessageOut.model_validate(message) for message in messages],
        has_more_messages=len(latest) > messages_limit,
        facts=ConversationFactsOut.model_validate(context) if context else None,
        lead_id=lead_id,
        tags=[TagOut.model_validate(tag) for tag in tags],
        notes=[NoteOut.model_validate(note) for note in notes[:DETAIL_NOTES]],
        has_more_notes=len(notes) > DETAIL_NOTES,
    )


def change_status(
    session: Session, actor: Principal, conversation_id: uuid.UUID, change: ConversationStatusUpdate
) -> ConversationOut:
    """Move the conversation along the allowed transitions (card 102); audited with the reason."""
    conversation = visible_conversation(session, actor, conversation_id, lock=True)
    current, wanted = conversation.status, change.status
    if wanted == current:
        raise Conflict(f"The conversation is already {current.value}")
    allowed = TRANSITIONS[current]
    if wanted not in allowed:
        names = ", ".join(status.value for status in allowed)
        raise Conflict(f"A {current.value} conversation cannot become {wanted.value}; allowed: {names}")
    conversation.status = wanted
    record_audit(session, actor, "conversation.status_changed", AUDIT_ENTITY, conversation.id,
                 before={"status": current.value}, after={"status": wanted.value}, reason=change.reason)  # fmt: skip
    live.announce_conversation_status(session, conversation)
    if wanted is ConversationStatus.CLOSED:
        emit_event(session, CONVERSATION_CLOSED, conversation_data(conversation))
    return conversation_item(session, conversation.id)


def assign_conversation(
    session: Session, actor: Principal, conversation_id: uuid.UUID, change: AssignmentUpdate
) -> ConversationOut:
    """Give the conversation to an active user (or to nobody); she is notified. ADMIN only (checked by the route)."""
    conversation = visible_conversation(session, actor, conversation_id, lock=True)
    target = require_active_user(session, change.user_id, "user_id") if change.user_id is not None else None
    previous = conversation.assigned_to_user_id
    if previous != change.user_id:
        conversation.assigned_to_user_id = change.user_id
        _audit_assignment(session, actor, conversation, previous, "conversation.assigned")
        if target is not None and target.id != actor.user_id:
            _notify_assignee(session, conversation, target.id)
    return conversation_item(session, conversation.id)


def claim_conversation(session: Session, actor: Principal, conversation_id: uuid.UUID) -> ConversationOut:
    """Take an unassigned conversation; taking one's own again changes nothing."""
    conversation = visible_conversation(session, actor, conversation_id, lock=True, claimable=True)
    owner = conversation.assigned_to_user_id
    if owner is None:
        conversation.assigned_to_user_id = actor.user_id
        _audit_assignment(session, actor, conversation, None, "conversation.claimed")
    elif owner != actor.user_id:  # only an ADMIN gets here: a USER was told 404 above
        raise Conflict("The conversation is assigned to another user; an ADMIN can reassign it")
    return conversation_item(session, conversation.id)


def _audit_assignment(
    session: Session, actor: Principal, conversation: Conversation, previous: uuid.UUID | None, action: str
) -> None:
    now = conversation.assigned_to_user_id
    record_audit(session, actor, action, AUDIT_ENTITY, conversation.id,
                 before={"assigned_to_user_id": str(previous) if previous else None},
                 after={"assigned_to_user_id": str(now) if now else None})  # fmt: skip


def _notify_assignee(session: Session, conversation: Conversation, user_id: uuid.UUID) -> None:
    who = conversation.name or conversation.phone_number or "Paciente"
    lead_id = session.scalar(select(Lead.id).where(Lead.conversation_id == conversation.id, Lead.deleted_at.is_(None)))
    session.add(
        Notification(
            user_id=user_id,
            type=NotificationType.ASSIGNMENT,
            priority=NotificationPriority.HIGH if conversation.is_urgent else NotificationPriority.NORMAL,
            title=f"Conversa atribuída a você: {who}",
            message="Um administrador atribuiu esta conversa a você.",
            conversation_id=conversation.id,
            lead_id=lead_id,
        )
    )
