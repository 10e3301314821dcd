"""Messages a secretary schedules for later (card 120); the scheduler tick sends them (a later issue)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, Timestamps, UUIDPk, pg_enum


class ScheduledStatus(enum.StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


class ScheduledMessage(Timestamps, Base):
    __tablename__ = "scheduled_messages"

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    scheduled_at: Mapped[datetime]
    status: Mapped[ScheduledStatus] = mapped_column(
        pg_enum(ScheduledStatus, "scheduled_status"), default=ScheduledStatus.PENDING
    )
    # What the sender records: attempts, the last error, and the message it became.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("conversation_messages.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None]
    cancelled_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        # The scheduler's question, every minute: what is due and still pending?
        Index("ix_scheduled_messages_due", "scheduled_at", postgresql_where=text("status = 'PENDING'")),
    )
