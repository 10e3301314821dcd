"""Leads: patients on their way to an appointment, and what the front desk did with them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt, Timestamps, UUIDPk, pg_enum
from shared.leads.phone import phone_key


class LeadStatus(enum.StrEnum):
    NEW = "NEW"
    ENGAGED = "ENGAGED"
    INTERESTED = "INTERESTED"
    READY = "READY"
    SCHEDULED = "SCHEDULED"
    LOST = "LOST"


class LeadSource(enum.StrEnum):
    WHATSAPP = "WHATSAPP"
    MANUAL = "MANUAL"
    REFERRAL = "REFERRAL"
    OTHER = "OTHER"


class InteractionType(enum.StrEnum):
    NOTE = "NOTE"
    STATUS_CHANGE = "STATUS_CHANGE"
    ASSIGNMENT = "ASSIGNMENT"
    CALL = "CALL"
    EMAIL = "EMAIL"


def _phone_key_of_row(context: Any) -> str | None:
    # A column default, so that every INSERT gets it, the assistant's Core insert included; a lead's number
    # never changes after it is created, so there is no onupdate.
    return phone_key(context.get_current_parameters().get("phone_number"))


class Lead(Timestamps, Base):
    __tablename__ = "leads"

    id: Mapped[UUIDPk]
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), unique=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    phone_number: Mapped[str] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[LeadStatus] = mapped_column(pg_enum(LeadStatus, "lead_status"), default=LeadStatus.NEW)
    source: Mapped[LeadSource] = mapped_column(pg_enum(LeadSource, "lead_source"), default=LeadSource.WHATSAPP)
    maturity_score: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    notes: Mapped[str | None] = mapped_column(Text)
    assigned_to_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    converted_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    # Card 124: the number's spelling-independent key (shared/leads/phone.py), so duplicates are one indexed query.
    phone_key: Mapped[str | None] = mapped_column(String(32), default=_phone_key_of_row)
    # Set on a lead merged into another (and soft-deleted then); the target's journey shows its history.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)

    __table_args__ = (
        CheckConstraint("maturity_score BETWEEN 0 AND 100", name="maturity_score_range"),
        Index("ix_leads_live_phone_key", "phone_key", postgresql_where=text("deleted_at IS NULL")),
        Index("ix_leads_created_at", "created_at"),
        # Listings never show deleted leads; keep their index small.
        Index("ix_leads_active_status", "status", postgresql_where=text("deleted_at IS NULL")),
    )


class LeadInteraction(Base):
    __tablename__ = "lead_interactions"

    id: Mapped[UUIDPk]
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    interaction_type: Mapped[InteractionType] = mapped_column(pg_enum(InteractionType, "interaction_type"))
    notes: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    created_at: Mapped[CreatedAt]

    __table_args__ = (Index("ix_lead_interactions_lead_id_created_at", "lead_id", "created_at"),)
