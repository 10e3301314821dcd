"""Inbound processing state, outbound idempotency keys, edits, revocations and reactions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLE = "conversation_messages"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("client_ref", sa.String(length=128), nullable=True))
    op.add_column(TABLE, sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(TABLE, sa.Column("processing_note", sa.String(length=32), nullable=True))
    op.add_column(TABLE, sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(TABLE, sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(TABLE, sa.Column("patient_reaction", sa.String(length=32), nullable=True))
    op.create_unique_constraint(op.f("uq_conversation_messages_client_ref"), TABLE, ["client_ref"])
    op.create_index(
        "ix_conversation_messages_unprocessed",
        TABLE,
        ["created_at"],
        postgresql_where=sa.text("direction = 'INBOUND' AND processed_at IS NULL"),
    )
    # Messages stored before this revision were handled (or are beyond help): do not sweep them.
    op.execute("UPDATE conversation_messages SET processed_at = created_at WHERE direction = 'INBOUND'")


def downgrade() -> None:
    op.drop_index("ix_conversation_messages_unprocessed", table_name=TABLE)
    op.drop_constraint(op.f("uq_conversation_messages_client_ref"), TABLE, type_="unique")
    for column in ("patient_reaction", "revoked_at", "edited_at", "processing_note", "processed_at", "client_ref"):
        op.drop_column(TABLE, column)
