"""The metrics read a month of rows by date: covering indexes, so that those reads stay in the index

On 1,000,000 messages a month is ~170,000 messages, ~70,000 waits and ~55,000 turn insights, and the metrics read
them by date range. Each index on the date column now carries the few columns the metrics read (INCLUDE), so the
range is an index-only scan instead of a visit to every row's heap page (a message row is ~1 KB: 20,000 pages a
month; rows newer than the last vacuum are still read from the table). Each replaces the plain index on the same column, which it serves as well:
- `response_waits (started_at)` + the wait's end, responder, first flag, conversation and ending message;
- `conversation_messages (created_at)` + conversation and sender kind (a secretary's counts, which the hourly
  rollup cannot give);
- `turn_insights (created_at)` + conversation, sentiment, score, intent and topics.
And the secretaries' messages by id with their author, for the waits a secretary answered (whose answer was it).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 20:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (the plain index replaced, its column, the covering index, the columns it carries)
COVERING = {
    "response_waits": ("ix_response_waits_started_at", "started_at", "ix_response_waits_started_at_covering",
                       ["ended_at", "responder", "is_first", "conversation_id", "end_message_id"]),
    "conversation_messages": ("ix_conversation_messages_created_at", "created_at",
                              "ix_conversation_messages_created_at_covering", ["conversation_id", "sender_kind"]),
    "turn_insights": ("ix_turn_insights_created_at", "created_at", "ix_turn_insights_created_at_covering",
                      ["conversation_id", "sentiment", "sentiment_score", "intent", "topics"]),
}  # fmt: skip
SECRETARY_MESSAGES = "ix_conversation_messages_secretary_id"
SECRETARY_ONLY = sa.text("sender_kind = 'SECRETARY'")


def upgrade() -> None:
    for table, (plain, column, covering, carried) in COVERING.items():
        op.create_index(covering, table, [column], postgresql_include=carried)
        op.drop_index(plain, table_name=table)
    op.create_index(SECRETARY_MESSAGES, "conversation_messages", ["id"], postgresql_include=["sender_user_id"],
                    postgresql_where=SECRETARY_ONLY)  # fmt: skip


def downgrade() -> None:
    op.drop_index(SECRETARY_MESSAGES, table_name="conversation_messages", postgresql_where=SECRETARY_ONLY)
    for table, (plain, column, covering, _) in COVERING.items():
        op.create_index(plain, table, [column])
        op.drop_index(covering, table_name=table)
