"""Every call the assistant makes to a language model, for cost and quality audits (cards 056, 090)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt, UUIDPk, pg_enum


class LLMProvider(enum.StrEnum):
    GEMINI = "GEMINI"
    OPENAI = "OPENAI"
    ANTHROPIC = "ANTHROPIC"
    OFFLINE = "OFFLINE"


class LLMInteraction(Base):
    __tablename__ = "llm_interactions"

    id: Mapped[UUIDPk]
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[LLMProvider] = mapped_column(pg_enum(LLMProvider, "llm_provider"))
    model_name: Mapped[str] = mapped_column(String(100))
    prompt_version: Mapped[str] = mapped_column(String(64), index=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    total_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal(0), server_default=text("0"))
    latency_ms: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]

    __table_args__ = (Index("ix_llm_interactions_created_at", "created_at"),)


class Sentiment(enum.StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class TurnInsight(Base):
    """What one turn learned about the patient's messages (issue 11): sentiment, topics and the intent.

    One row per turn, keyed by the newest patient message it answered, and dated by that message, so the metrics
    count a turn on the day the patient wrote."""

    __tablename__ = "turn_insights"

    id: Mapped[UUIDPk]
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="CASCADE"), unique=True
    )
    sentiment: Mapped[str] = mapped_column(String(16))
    sentiment_score: Mapped[Decimal] = mapped_column(Numeric(4, 3))  # -1 (very negative) .. 1 (very positive)
    intent: Mapped[str | None] = mapped_column(String(32))
    # The intent and the clinic's services named, normalised (lower case, no accents), e.g. {"price", "botox"}.
    topics: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list, server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        # The metrics read a period's turns by created_at: what they read of each is in the index (migration 0015).
        Index(
            "ix_turn_insights_created_at_covering",
            "created_at",
            postgresql_include=["conversation_id", "sentiment", "sentiment_score", "intent", "topics"],
        ),
        CheckConstraint("sentiment IN ('positive', 'neutral', 'negative')", name="sentiment_known"),
        CheckConstraint("sentiment_score BETWEEN -1 AND 1", name="sentiment_score_range"),
    )


class CompetitorMention(Base):
    """A patient's message that names one of the clinic's competitors (card 153); one row per (message, name)."""

    __tablename__ = "competitor_mentions"

    id: Mapped[UUIDPk]
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversation_messages.id", ondelete="CASCADE"))
    competitor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        Index("ix_competitor_mentions_created_at", "created_at"),
        UniqueConstraint("message_id", "competitor", name="uq_competitor_mentions_message_competitor"),
    )
