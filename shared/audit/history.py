"""Edit history of leads and conversations (card 123): one row per changed column, written by Postgres itself.

The AFTER UPDATE triggers (migration 0010, function `record_edit_history`) compare the old and new rows, so no
code path can change a lead or a conversation without leaving a trace. Who made the change comes from the
transaction-local setting `clinicbot.user_id`, which `install_actor_tracking` sets for the secretary behind
each API request; the assistant's and the intake's changes carry no user (NULL).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, event, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from shared.db import Base, CreatedAt, UUIDPk
from shared.pagination import Page, PageQuery, paginate
from shared.users.models import User

EntityType = Literal["lead", "conversation"]
ACTOR_SETTING = "clinicbot.user_id"


class EditHistory(Base):
    __tablename__ = "edit_history"

    id: Mapped[UUIDPk]
    entity_type: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[uuid.UUID]
    field: Mapped[str] = mapped_column(String(63))  # a column name: Postgres identifiers are at most 63 bytes
    old_value: Mapped[Any | None] = mapped_column(JSONB)
    new_value: Mapped[Any | None] = mapped_column(JSONB)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    edited_at: Mapped[CreatedAt]

    __table_args__ = (
        CheckConstraint("entity_type IN ('lead', 'conversation')", name="entity_type_known"),
        Index("ix_edit_history_entity_type_entity_id_edited_at", "entity_type", "entity_id", "edited_at"),
    )


class EditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    entity_type: EntityType = Field(examples=["lead"])
    entity_id: uuid.UUID = Field(description="the lead or conversation (a lead merged into this one keeps its id)")
    field: str = Field(examples=["status"])
    old_value: Any = Field(description="the column's value before, as JSON", examples=["NEW"])
    new_value: Any = Field(description="the column's value after, as JSON", examples=["INTERESTED"])
    user_id: uuid.UUID | None = Field(description="who changed it; null when the assistant or the system did")
    user_name: str | None = Field(default=None, description="that user's full name", examples=["Ana Souza"])
    edited_at: datetime


def _set_actor(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    from flask import g, has_request_context  # only the API sets an actor; other functions never get here

    principal = g.get("principal") if has_request_context() else None
    if principal is not None:
        # is_local=true: the setting dies with the transaction, so a pooled connection never carries it over.
        connection.execute(
            text("SELECT set_config(:name, :user_id, true)"), {"name": ACTOR_SETTING, "user_id": str(principal.user_id)}
        )


def install_actor_tracking() -> None:
    """Attribute every transaction begun inside an authenticated request to its user (idempotent)."""
    if not event.contains(Session, "after_begin", _set_actor):
        event.listen(Session, "after_begin", _set_actor)


def list_edits(
    session: Session, entity_type: EntityType, entity_ids: Sequence[uuid.UUID], query: PageQuery
) -> Page[EditOut]:
    """The edits of these rows, newest first, with each editor's name."""
    statement = (
        select(EditHistory)
        .where(EditHistory.entity_type == entity_type, EditHistory.entity_id.in_(entity_ids))
        .order_by(EditHistory.edited_at.desc(), EditHistory.field, EditHistory.id)
    )
    page = paginate(session, statement, query, EditOut.model_validate)
    editors = {item.user_id for item in page.items if item.user_id}
    names = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(editors))).all())
    page.items = [item.model_copy(update={"user_name": names.get(item.user_id)}) for item in page.items]
    return page
