"""The seed's scripted multimedia messages: a text, media or location the clinic sends as is."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, text
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

    media: Mapped[list[MessageMedia]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    location: Mapped[MessageLocation | None] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class MessageMedia(Base):
    __tablename__ = "message_media"

    id: Mapped[UUIDPk]
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    mimetype: Mapped[str] = mapped_column(String(128))
    filename: Mapped[str | None] = mapped_column(String(255))
    caption: Mapped[str | None] = mapped_column(Text)


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
