"""In-app notifications for secretaries (card 099)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt, UUIDPk, pg_enum


class NotificationType(enum.StrEnum):
    NEW_LEAD = "NEW_LEAD"
    HANDOFF = "HANDOFF"
    URGENT = "URGENT"
    NEW_MESSAGE = "NEW_MESSAGE"
    ASSIGNMENT = "ASSIGNMENT"
    SYSTEM = "SYSTEM"


class NotificationPriority(enum.StrEnum):
    NORMAL = "NORMAL"
    HIGH = "HIGH"


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[NotificationType] = mapped_column(pg_enum(NotificationType, "notification_type"))
    priority: Mapped[NotificationPriority] = mapped_column(
        pg_enum(NotificationPriority, "notification_priority"), default=NotificationPriority.NORMAL
    )
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    read_at: Mapped[datetime | None]
    created_at: Mapped[CreatedAt]

    __table_args__ = (Index("ix_notifications_user_id_read_at_created_at", "user_id", "read_at", "created_at"),)
