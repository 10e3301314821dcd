"""Indexes for the conversation list, search and export at 100,000 conversations

- the list's order, (last_message_at DESC NULLS LAST, id), also serves its date filters: it replaces the plain
  last_message_at index; a USER's list has the same order behind her assignee id (replacing the plain
  assigned_to_user_id index, its prefix), and so has the urgent queue (a partial index: ~3% of the rows);
- the list's name/phone search is a substring match (ILIKE '%maria%'): trigram GIN indexes (pg_trgm, a trusted
  extension since Postgres 13) turn a scan of every conversation into an index lookup;
- the CSV export reads by keyset on (created_at, id).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 04:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_COLUMNS = ("name", "phone_number", "chat_id")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.drop_index("ix_conversations_last_message_at", table_name="conversations")
    op.drop_index("ix_conversations_assigned_to_user_id", table_name="conversations")
    op.create_index(
        "ix_conversations_last_message_at_id",
        "conversations",
        [sa.text("last_message_at DESC NULLS LAST"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_conversations_assigned_to_user_id_last_message_at_id",
        "conversations",
        ["assigned_to_user_id", sa.text("last_message_at DESC NULLS LAST"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_conversations_urgent_last_message_at_id",
        "conversations",
        [sa.text("last_message_at DESC NULLS LAST"), "id"],
        unique=False,
        postgresql_where=sa.text("is_urgent IS TRUE"),
    )
    op.create_index("ix_conversations_created_at_id", "conversations", ["created_at", "id"], unique=False)
    for column in TRIGRAM_COLUMNS:
        op.create_index(
            f"ix_conversations_{column}_trgm",
            "conversations",
            [column],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    for column in TRIGRAM_COLUMNS:
        op.drop_index(f"ix_conversations_{column}_trgm", table_name="conversations")
    op.drop_index("ix_conversations_created_at_id", table_name="conversations")
    op.drop_index("ix_conversations_urgent_last_message_at_id", table_name="conversations")
    op.drop_index("ix_conversations_assigned_to_user_id_last_message_at_id", table_name="conversations")
    op.drop_index("ix_conversations_last_message_at_id", table_name="conversations")
    op.create_index("ix_conversations_last_message_at", "conversations", ["last_message_at"], unique=False)
    op.create_index("ix_conversations_assigned_to_user_id", "conversations", ["assigned_to_user_id"], unique=False)
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
