"""A WhatsApp conversation with one contact, its messages, and the facts gathered about the patient."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import Base, CreatedAt, Timestamps, UpdatedAt, UUIDPk, pg_enum


class ConversationStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    AWAITING_RESPONSE = "AWAITING_RESPONSE"
    WAITING_SECRETARY = "WAITING_SECRETARY"
    TRANSFERRED = "TRANSFERRED"
    CLOSED = "CLOSED"


class MessageDirection(enum.StrEnum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class SenderKind(enum.StrEnum):
    PATIENT = "PATIENT"
    BOT = "BOT"
    SECRETARY = "SECRETARY"


class MessageKind(enum.StrEnum):
    TEXT = "TEXT"
    IMAGE = "IMAGE"
    AUDIO = "AUDIO"
    VOICE = "VOICE"
    VIDEO = "VIDEO"
    DOCUMENT = "DOCUMENT"
    STICKER = "STICKER"
    LOCATION = "LOCATION"
    CONTACT = "CONTACT"
    OTHER = "OTHER"


MESSAGE_KIND = pg_enum(MessageKind, "message_kind")


class DeliveryAck(enum.StrEnum):
    """WAHA's ack levels, declared in their order so that Postgres compares them (ERROR is WAHA's -1)."""

    ERROR = "ERROR"
    PENDING = "PENDING"
    SERVER = "SERVER"
    DEVICE = "DEVICE"
    READ = "READ"
    PLAYED = "PLAYED"


class Conversation(Timestamps, Base):
    __tablename__ = "conversations"

    id: Mapped[UUIDPk]
    chat_id: Mapped[str] = mapped_column(String(128), unique=True)
    phone_number: Mapped[str | None] = mapped_column(String(32), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ConversationStatus] = mapped_column(
        pg_enum(ConversationStatus, "conversation_status"), default=ConversationStatus.ACTIVE, index=True
    )
    is_urgent: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    urgency_reason: Mapped[str | None] = mapped_column(Text)
    assigned_to_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    human_takeover_at: Mapped[datetime | None]
    opted_out_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]

    messages: Mapped[list[ConversationMessage]] = relationship(
        back_populates="conversation",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ConversationMessage.created_at",
    )
    context: Mapped[ConversationContext | None] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", passive_deletes=True
    )

    # Migration 0011: the list's order (alone, behind a USER's id, for the urgent queue), the export's keyset,
    # and trigram indexes for the list's substring search on name and phone.
    __table_args__ = (
        Index("ix_conversations_last_message_at_id", text("last_message_at DESC NULLS LAST"), "id"),
        Index(
            "ix_conversations_assigned_to_user_id_last_message_at_id",
            "assigned_to_user_id",
            text("last_message_at DESC NULLS LAST"),
            "id",
        ),
        Index(
            "ix_conversations_urgent_last_message_at_id",
            text("last_message_at DESC NULLS LAST"),
            "id",
            postgresql_where=text("is_urgent IS TRUE"),
        ),
        Index("ix_conversations_created_at_id", "created_at", "id"),
        *(
            Index(f"ix_conversations_{column}_trgm", column, postgresql_using="gin",
                  postgresql_ops={column: "gin_trgm_ops"})
            for column in ("name", "phone_number", "chat_id")
        ),
    )  # fmt: skip


class ConversationMessage(Base):
    __tablename__ = "conversation_messages"

    id: Mapped[UUIDPk]
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[MessageDirection] = mapped_column(pg_enum(MessageDirection, "message_direction"))
    sender_kind: Mapped[SenderKind] = mapped_column(pg_enum(SenderKind, "sender_kind"))
    sender_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[MessageKind] = mapped_column(MESSAGE_KIND, default=MessageKind.TEXT)
    from_phone: Mapped[str | None] = mapped_column(String(128))
    to_phone: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[str | None] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text)
    media_mimetype: Mapped[str | None] = mapped_column(String(128))
    media_filename: Mapped[str | None] = mapped_column(String(255))
    media_storage_key: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    location_name: Mapped[str | None] = mapped_column(String(255))
    location_address: Mapped[str | None] = mapped_column(Text)
    waha_message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Idempotency key of an outbound message: it is stored under this key before it is sent, so a retried
    # task finds it instead of sending it again.
    client_ref: Mapped[str | None] = mapped_column(String(128), unique=True)
    ack: Mapped[DeliveryAck | None] = mapped_column(pg_enum(DeliveryAck, "delivery_ack"))
    ack_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_timestamp: Mapped[datetime | None]
    # Inbound only: when a bot turn (or a decision not to run one) dealt with it. `clinicbot sweep`
    # re-enqueues messages that stay unprocessed, so nothing waits forever on a lost task.
    processed_at: Mapped[datetime | None]
    processing_note: Mapped[str | None] = mapped_column(String(32))
    edited_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    patient_reaction: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[CreatedAt]
    # Card 112: Postgres keeps the Portuguese full-text vector of the body itself. Deferred: only the search
    # reads it, and no listing should carry it around.
    search_vector: Mapped[str | None] = mapped_column(
        TSVECTOR, Computed("to_tsvector('portuguese', coalesce(body, ''))", persisted=True), deferred=True
    )

    conversation: Mapped[Conversation] = relationship(back_populates="messages")

    __table_args__ = (
        Index("ix_conversation_messages_conversation_id_created_at_id", "conversation_id", "created_at", "id"),
        Index(
            "ix_conversation_messages_unprocessed",
            "created_at",
            postgresql_where=text("direction = 'INBOUND' AND processed_at IS NULL"),
        ),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("(direction = 'INBOUND') = (sender_kind = 'PATIENT')", name="patient_messages_are_inbound"),
        Index("ix_conversation_messages_search_vector", "search_vector", postgresql_using="gin"),
        Index(
            "ix_conversation_messages_secretary_sent",
            "sender_user_id",
            "created_at",
            postgresql_where=text("sender_kind = 'SECRETARY'"),
        ),
        # A period's messages by created_at, with what a secretary's counts read of them (migration 0015).
        Index(
            "ix_conversation_messages_created_at_covering",
            "created_at",
            postgresql_include=["conversation_id", "sender_kind"],
        ),
        # Whose answer ended a wait: the secretaries' messages by id, with their author.
        Index(
            "ix_conversation_messages_secretary_id",
            "id",
            postgresql_include=["sender_user_id"],
            postgresql_where=text("sender_kind = 'SECRETARY'"),
        ),
    )
    # Not eager: the ORM would otherwise add RETURNING search_vector to every INSERT, shipping back a vector that
    # nothing reads (every other server default here also has a Python default, so nothing else is fetched).
    __mapper_args__ = {"eager_defaults": False}


class ConversationContext(Base):
    """What the assistant has learned about the patient (card 058), kept as JSONB."""

    __tablename__ = "conversation_contexts"

    id: Mapped[UUIDPk]
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), unique=True)
    patient_name: Mapped[str | None] = mapped_column(String(200))
    symptoms: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    concerns: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    intent_detected: Mapped[bool] = mapped_column(default=False, server_default=text("false"), index=True)
    intent_type: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[UpdatedAt]

    conversation: Mapped[Conversation] = relationship(back_populates="context")


class ConversationNote(Timestamps, Base):
    """An internal note on a conversation (card 104): for the team only, never sent to the patient."""

    __tablename__ = "conversation_notes"

    id: Mapped[UUIDPk]
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    # SET NULL: a note outlives its author's account (users are deactivated, but a purge must not lose notes).
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_conversation_notes_conversation_id_created_at", "conversation_id", "created_at"),)


class Tag(Base):
    """A label for conversations (card 103), created by an ADMIN."""

    __tablename__ = "tags"

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(50))
    # The name trimmed and lower-cased: "Urgente" and " urgente" are the same tag, and the database says so.
    name_key: Mapped[str] = mapped_column(String(50), unique=True)
    color: Mapped[str | None] = mapped_column(String(7))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[CreatedAt]

    __table_args__ = (CheckConstraint("color IS NULL OR color ~ '^#[0-9A-Fa-f]{6}$'", name="color_hex"),)


class ConversationTag(Base):
    """A tag on a conversation; the pair is the key, so tagging twice is one row."""

    __tablename__ = "conversation_tags"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True)
    tagged_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[CreatedAt]
