"""The secretaries' message templates (card 121): reusable texts with `{{variables}}`, checked when saved.

The catalogue is the clinic's: everyone with USE_TEMPLATES reads and renders every template, and whoever holds
MANAGE_TEMPLATES (checked by the routes) changes any of them. A conversation named in a render follows the
conversations' rule: one the caller cannot see is 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.config import get_settings
from shared.conversations.service import visible_conversation
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared.names import name_key
from shared.pagination import Page, paginate
from shared.templates.models import MessageTemplate
from shared.templates.rendering import MissingVariables, render, variables_in
from shared.templates.schemas import (
    RenderedOut,
    TemplateCreate,
    TemplateListQuery,
    TemplateOut,
    TemplateRender,
    TemplateUpdate,
)

ENTITY = "message_template"
_AUDITED = ("name", "content", "category", "is_active")


def list_templates(session: Session, query: TemplateListQuery) -> Page[TemplateOut]:
    """Templates by name, filtered by text, category and state."""
    statement = select(MessageTemplate).order_by(MessageTemplate.name_key)
    if query.search:
        term = query.search
        statement = statement.where(
            or_(MessageTemplate.name.icontains(term, autoescape=True),
                MessageTemplate.content.icontains(term, autoescape=True))
        )  # fmt: skip
    if query.category:
        statement = statement.where(func.lower(MessageTemplate.category) == query.category.lower())
    if query.is_active is not None:
        statement = statement.where(MessageTemplate.is_active.is_(query.is_active))
    return paginate(session, statement, query, TemplateOut.model_validate)


def get_template(session: Session, template_id: uuid.UUID) -> TemplateOut:
    """One template."""
    return TemplateOut.model_validate(_template(session, template_id))


def create_template(session: Session, actor: Principal, data: TemplateCreate) -> TemplateOut:
    """A new template; a name already taken in any case is 409. Audited."""
    name = " ".join(data.name.split())
    row = MessageTemplate(name=name, name_key=name_key(name), content=data.content, category=data.category,
                          variables=variables_in(data.content), is_active=data.is_active,
                          created_by_user_id=actor.user_id)  # fmt: skip
    _ensure_free(session, row.name_key, name)
    session.add(row)
    _flush_unique(session, name)
    record_audit(session, actor, f"{ENTITY}.created", ENTITY, row.id, after=_snapshot(row))
    return TemplateOut.model_validate(row)


def update_template(session: Session, actor: Principal, template_id: uuid.UUID, change: TemplateUpdate) -> TemplateOut:
    """Change the fields given; a rename onto another template's name is 409. Audited with before and after."""
    row = _template(session, template_id, lock=True)
    before = _snapshot(row)
    given = change.model_dump(exclude_unset=True)
    for field in ("name", "content", "is_active"):
        if given.get(field) is None:
            given.pop(field, None)  # null means "keep" for fields that cannot be empty
    if "name" in given:
        given["name"] = " ".join(given["name"].split())
        if name_key(given["name"]) != row.name_key:
            _ensure_free(session, name_key(given["name"]), given["name"])
        row.name_key = name_key(given["name"])
    for field, value in given.items():
        setattr(row, field, value)
    row.variables = variables_in(row.content)
    if _snapshot(row) != before:
        _flush_unique(session, row.name)
        record_audit(session, actor, f"{ENTITY}.updated", ENTITY, row.id, before=before, after=_snapshot(row))
    return TemplateOut.model_validate(row)


def delete_template(session: Session, actor: Principal, template_id: uuid.UUID) -> None:
    """Delete a template; audited with what it said."""
    row = _template(session, template_id, lock=True)
    record_audit(session, actor, f"{ENTITY}.deleted", ENTITY, row.id, before=_snapshot(row))
    session.delete(row)


def render_template(session: Session, actor: Principal, template_id: uuid.UUID, request: TemplateRender) -> RenderedOut:
    """The template's text with its variables filled; 422 listing the ones that have no value."""
    row = _template(session, template_id)
    if not row.is_active:
        raise Conflict("The template is inactive; activate it to use it")
    values = {**conversation_variables(session, actor, request.conversation_id), **request.variables}
    try:
        content = render(row.content, values)
    except MissingVariables as missing:
        raise ValidationFailed([FieldError("variables", "missing: " + ", ".join(missing.names))],
                               detail="Missing template variables: " + ", ".join(missing.names)) from None  # fmt: skip
    used = {name: str(values[name]) for name in variables_in(row.content)}
    return RenderedOut(template_id=row.id, content=content, variables=used)


def conversation_variables(session: Session, actor: Principal, conversation_id: uuid.UUID | None) -> dict[str, str]:
    """The values a conversation gives: clinica always, nome and telefone when known (404 if not visible)."""
    values = {"clinica": get_settings().clinic_name}
    if conversation_id is None:
        return values
    conversation = visible_conversation(session, actor, conversation_id)
    context = conversation.context
    name = (context and context.patient_name) or conversation.name
    known: Mapping[str, str | None] = {"nome": name, "telefone": conversation.phone_number}
    return values | {key: value for key, value in known.items() if value}


def _template(session: Session, template_id: uuid.UUID, *, lock: bool = False) -> MessageTemplate:
    statement = select(MessageTemplate).where(MessageTemplate.id == template_id)
    row = session.scalars(statement.with_for_update() if lock else statement).one_or_none()
    if row is None:
        raise NotFound("Template not found")
    return row


def _ensure_free(session: Session, key: str, name: str) -> None:
    if session.scalar(select(MessageTemplate.id).where(MessageTemplate.name_key == key)) is not None:
        raise Conflict(f"A template named {name!r} already exists")


def _flush_unique(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError:  # two people saving the same name at once: the unique key decides
        raise Conflict(f"A template named {name!r} already exists") from None


def _snapshot(row: MessageTemplate) -> dict[str, object]:
    return {field: getattr(row, field) for field in _AUDITED}
