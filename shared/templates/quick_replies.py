"""Quick replies (card 122): ready answers an ADMIN keeps, tagged with the contexts they fit, used in one click.

Every use counts (`usage_count`), so that among replies that fit a context equally the most used comes first.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.errors import Conflict, NotFound
from shared.pagination import Page, paginate
from shared.templates.catalogue import conversation_variables
from shared.templates.models import QuickReply
from shared.templates.rendering import fill_known, variables_in
from shared.templates.schemas import (
    QuickReplyCreate,
    QuickReplyListQuery,
    QuickReplyOut,
    QuickReplyUpdate,
    QuickReplyUse,
    UsedQuickReplyOut,
    context_key,
)

ENTITY = "quick_reply"
_AUDITED = ("title", "shortcut", "response", "contexts", "intent", "is_active")
_REQUIRED = ("title", "response", "contexts", "is_active")  # null in a PATCH keeps these


def list_quick_replies(session: Session, query: QuickReplyListQuery) -> Page[QuickReplyOut]:
    """Quick replies, most used first, filtered by text, context and state."""
    statement = select(QuickReply).order_by(QuickReply.usage_count.desc(), QuickReply.title, QuickReply.id)
    if query.search:
        statement = statement.where(or_(QuickReply.title.icontains(query.search, autoescape=True),
                                        QuickReply.response.icontains(query.search, autoescape=True)))  # fmt: skip
    if query.context:
        statement = statement.where(QuickReply.contexts.contains([context_key(query.context)]))
    if query.is_active is not None:
        statement = statement.where(QuickReply.is_active.is_(query.is_active))
    return paginate(session, statement, query, QuickReplyOut.model_validate)


def get_quick_reply(session: Session, reply_id: uuid.UUID) -> QuickReplyOut:
    """One quick reply."""
    return QuickReplyOut.model_validate(_reply(session, reply_id))


def create_quick_reply(session: Session, actor: Principal, data: QuickReplyCreate) -> QuickReplyOut:
    """A new quick reply; a shortcut already taken is 409. Audited."""
    _ensure_free(session, data.shortcut)
    row = QuickReply(**data.model_dump(), created_by_user_id=actor.user_id)
    row.intent = data.intent.value if data.intent else None
    session.add(row)
    _flush_unique(session, data.shortcut)
    record_audit(session, actor, f"{ENTITY}.created", ENTITY, row.id, after=_snapshot(row))
    return QuickReplyOut.model_validate(row)


def update_quick_reply(
    session: Session, actor: Principal, reply_id: uuid.UUID, change: QuickReplyUpdate
) -> QuickReplyOut:
    """Change the fields given; audited with before and after."""
    row = _reply(session, reply_id, lock=True)
    before = _snapshot(row)
    given = {k: v for k, v in change.model_dump(exclude_unset=True).items() if v is not None or k not in _REQUIRED}
    if given.get("shortcut") and given["shortcut"] != row.shortcut:
        _ensure_free(session, given["shortcut"])
    if "intent" in given:
        given["intent"] = change.intent.value if change.intent else None
    for field, value in given.items():
        setattr(row, field, value)
    if _snapshot(row) != before:
        _flush_unique(session, row.shortcut)
        record_audit(session, actor, f"{ENTITY}.updated", ENTITY, row.id, before=before, after=_snapshot(row))
    return QuickReplyOut.model_validate(row)


def delete_quick_reply(session: Session, actor: Principal, reply_id: uuid.UUID) -> None:
    """Delete a quick reply; audited with what it said."""
    row = _reply(session, reply_id, lock=True)
    record_audit(session, actor, f"{ENTITY}.deleted", ENTITY, row.id, before=_snapshot(row))
    session.delete(row)


def use_quick_reply(session: Session, actor: Principal, reply_id: uuid.UUID, use: QuickReplyUse) -> UsedQuickReplyOut:
    """Count one use and answer the reply rendered for the conversation, if one is given (404 if not visible)."""
    values = {**conversation_variables(session, actor, use.conversation_id), **use.variables}
    reply = _reply(session, reply_id)
    if not reply.is_active:
        raise Conflict("The quick reply is inactive")
    # One UPDATE, so that clicks at the same moment all count.
    session.execute(update(QuickReply).where(QuickReply.id == reply_id).values(usage_count=QuickReply.usage_count + 1))
    session.refresh(reply)
    return rendered_out(UsedQuickReplyOut, reply, values)


def rendered_out(model: type[Any], reply: QuickReply, values: dict[str, Any], **extra: Any) -> Any:
    """The reply as `model`, its response filled with the `values` known and the rest listed as missing."""
    missing = [name for name in variables_in(reply.response) if values.get(name) is None]
    base = QuickReplyOut.model_validate(reply).model_dump()
    return model(**base, rendered=fill_known(reply.response, values), missing_variables=missing, **extra)


def _reply(session: Session, reply_id: uuid.UUID, *, lock: bool = False) -> QuickReply:
    statement = select(QuickReply).where(QuickReply.id == reply_id)
    row = session.scalars(statement.with_for_update() if lock else statement).one_or_none()
    if row is None:
        raise NotFound("Quick reply not found")
    return row


def _ensure_free(session: Session, shortcut: str | None) -> None:
    if shortcut and session.scalar(select(QuickReply.id).where(QuickReply.shortcut == shortcut)) is not None:
        raise Conflict(f"The shortcut {shortcut!r} is already taken")


def _flush_unique(session: Session, shortcut: str | None) -> None:
    try:
        session.flush()
    except IntegrityError:  # two people saving the same shortcut at once: the unique key decides
        raise Conflict(f"The shortcut {shortcut!r} is already taken") from None


def _snapshot(row: QuickReply) -> dict[str, Any]:
    return {field: list(value) if isinstance(value := getattr(row, field), list) else value for field in _AUDITED}
