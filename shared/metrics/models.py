"""The metrics' rollups, kept exact by Postgres triggers (migration 0013), so no code path can forget them.

- `metric_message_hourly`: the clinic's messages per UTC hour, by who sent them. An insert adds one, a deleted
  message (an erased conversation's too) takes it away. Any zone whose offset is a whole number of hours (all of
  Brazil's) regroups these hours into its own days and hours exactly; other zones are counted from the messages.
  A USER's numbers cover the conversations assigned to her now, which a rollup would have to move at every
  reassignment (and race with the messages arriving meanwhile), so they are counted from her messages instead.
- `response_waits`: one row per wait (docs in shared/metrics/response.py), opened by a patient's message that
  follows one of ours (or none) and closed by our next message. Percentiles are computed over these rows, so
  they are exact, not estimated from buckets.
`shared/metrics/rollups.py` rebuilds both from the raw messages and checks them against it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.conversations.models import SenderKind
from shared.db import Base, pg_enum


class MessageHourly(Base):
    __tablename__ = "metric_message_hourly"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    patient_messages: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    bot_messages: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    secretary_messages: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class ResponseWait(Base):
    __tablename__ = "response_waits"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    start_message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="CASCADE"), unique=True
    )
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="SET NULL")
    )
    responder: Mapped[SenderKind | None] = mapped_column(pg_enum(SenderKind, "sender_kind"))
    is_first: Mapped[bool]

    __table_args__ = (
        # The metrics read a period's waits by started_at: what they read of each is in the index (migration 0015).
        Index(
            "ix_response_waits_started_at_covering",
            "started_at",
            postgresql_include=["ended_at", "responder", "is_first", "conversation_id", "end_message_id"],
        ),
        Index("ix_response_waits_conversation_id", "conversation_id"),
        Index("uq_response_waits_open", "conversation_id", unique=True, postgresql_where=text("ended_at IS NULL")),
    )
