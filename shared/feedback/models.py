"""Patient feedback after a closed conversation (card 134)."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt, UUIDPk

COMMENT_MAX = 2000


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[UUIDPk]
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    # The token's nonce: the unique constraint is what makes a token single-use, even under concurrent posts.
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt] = mapped_column(index=True)

    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),
        CheckConstraint(f"comment IS NULL OR char_length(comment) <= {COMMENT_MAX}", name="comment_length"),
    )
