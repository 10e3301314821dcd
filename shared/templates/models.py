"""The seed's scripted multimedia messages (a text, media or location the clinic sends as is), the secretaries'
text templates (card 121) and quick replies (card 122)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.conversations.models import MESSAGE_KIND, MessageKind
from shared.db import Base, Timestamps, UUIDPk


class ScriptedMessage(Timestamps, Base):
    __tablename__ = "messages"

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[MessageKind] = mapped_column(MESSAGE_KIND)
    body: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    media: Mapped[list[MessageMedia]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="MessageMedia.position"
    )
    location: Mapped[MessageLocation | None] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class MessageMedia(Base):
    __tablename__ = "message_media"

    id: Mapped[UUIDPk]
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    mimetype: Mapped[str] = mapped_column(String(128))
    filename: Mapped[str | None] = mapped_column(String(255))
    caption: Mapped[str | None] = mapped_column(Text)
    # The order the files go out in: without it a replaced list could come back in any order.
    position: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))


class MessageLocation(Base):
    __tablename__ = "message_location"

    id: Mapped[UUIDPk]
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    latitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    name: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )


class MessageTemplate(Timestamps, Base):
    """A text a secretary reuses (card 121), with `{{variables}}` she fills when she sends it."""

    __tablename__ = "message_templates"

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(120))
    # The name trimmed and case-folded: "Confirmação" and " confirmação" are the same template.
    name_key: Mapped[str] = mapped_column(String(120), unique=True)
    content: Mapped[str] = mapped_column(Text)
    variables: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    category: Mapped[str | None] = mapped_column(String(50), index=True)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class QuickReply(Timestamps, Base):
    """A ready answer suggested to secretaries by context (card 122); used in one click, ranked by use."""

    __tablename__ = "quick_replies"

    id: Mapped[UUIDPk]
    title: Mapped[str] = mapped_column(String(120))
    shortcut: Mapped[str | None] = mapped_column(String(32), unique=True)
    response: Mapped[str] = mapped_column(Text)
    contexts: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list, server_default=text("'{}'::varchar[]"))
    intent: Mapped[str | None] = mapped_column(String(32))
    usage_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint("usage_count >= 0", name="usage_count_non_negative"),
        Index("ix_quick_replies_contexts", "contexts", postgresql_using="gin"),
    )
