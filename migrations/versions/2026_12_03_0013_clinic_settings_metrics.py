"""Clinic settings, what a turn records for the metrics, and the metrics' rollups with the triggers that keep them

- `clinic_settings`: one row (id 1), written with the defaults of shared/clinic/schemas.py on first read.
- `turn_insights` and `competitor_mentions`: written by the assistant's turn.
- an index on a secretary's sent messages (her own numbers).
- `metric_message_hourly` and `response_waits` (see shared/metrics/models.py), kept by triggers on
  `conversation_messages` and `conversations`, then filled from the messages already stored.
  A transaction that sets `clinicbot.skip_metric_rollups` to `on` (generate-data's bulk COPY) skips the triggers
  and rebuilds the rollups itself.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 18:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE_TRIGGER = """
CREATE FUNCTION metric_track_message() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row conversation_messages;
    sign integer;
BEGIN
    IF current_setting('clinicbot.skip_metric_rollups', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN row := NEW; sign := 1; ELSE row := OLD; sign := -1; END IF;
    INSERT INTO metric_message_hourly AS h (hour, patient_messages, bot_messages, secretary_messages)
    VALUES (date_trunc('hour', row.created_at, 'UTC'),
            CASE WHEN row.sender_kind = 'PATIENT' THEN sign ELSE 0 END,
            CASE WHEN row.sender_kind = 'BOT' THEN sign ELSE 0 END,
            CASE WHEN row.sender_kind = 'SECRETARY' THEN sign ELSE 0 END)
    ON CONFLICT (hour) DO UPDATE SET
        patient_messages = h.patient_messages + excluded.patient_messages,
        bot_messages = h.bot_messages + excluded.bot_messages,
        secretary_messages = h.secretary_messages + excluded.secretary_messages;
    IF TG_OP <> 'INSERT' THEN
        RETURN NULL;
    END IF;
    -- Messages of one conversation are stored one transaction at a time from here (the lock an UPDATE of the
    -- conversation takes, compatible with the key-share lock of the foreign key check), so what follows sees
    -- every earlier message of the conversation.
    PERFORM 1 FROM conversations WHERE id = row.conversation_id FOR NO KEY UPDATE;
    IF EXISTS (SELECT 1 FROM conversation_messages WHERE conversation_id = row.conversation_id
               AND (created_at, id) > (row.created_at, row.id)) THEN
        -- Not the latest message (it arrived out of order): recompute the conversation's waits.
        PERFORM metric_rebuild_waits(row.conversation_id);
    ELSIF row.direction = 'INBOUND' THEN
        -- The latest message: a wait opens unless one is open already (the patient wrote again first).
        INSERT INTO response_waits (conversation_id, start_message_id, started_at, is_first)
        VALUES (row.conversation_id, row.id, row.created_at,
                NOT EXISTS (SELECT 1 FROM response_waits WHERE conversation_id = row.conversation_id))
        ON CONFLICT DO NOTHING;
    ELSE
        UPDATE response_waits SET ended_at = row.created_at, end_message_id = row.id, responder = row.sender_kind
        WHERE conversation_id = row.conversation_id AND ended_at IS NULL;
    END IF;
    RETURN NULL;
END
$$
"""


def _settings() -> None:
    op.create_table(
        "clinic_settings",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("timezone", sa.String(length=64), server_default=sa.text("'America/Sao_Paulo'"), nullable=False),
        sa.Column("business_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("holiday_country", sa.String(length=2), server_default=sa.text("'BR'"), nullable=False),
        sa.Column("holiday_subdivision", sa.String(length=8), server_default=sa.text("'SP'"), nullable=True),
        sa.Column("closures", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"),
                  nullable=False),
        sa.Column("sla_seconds", sa.Integer(), server_default=sa.text("300"), nullable=False),
        sa.Column("competitors", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"),
                  nullable=False),
        *(sa.Column(name, sa.Numeric(12, 2), server_default=sa.text("0"), nullable=False)
          for name in ("monthly_operational_cost", "implementation_cost", "avg_transaction_value",
                       "secretary_hourly_cost")),
        sa.Column("updated_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_clinic_settings_single_row")),
        sa.CheckConstraint("sla_seconds > 0", name=op.f("ck_clinic_settings_sla_positive")),
        sa.ForeignKeyConstraint(["updated_by_user_id"], ["users.id"],
                                name=op.f("fk_clinic_settings_updated_by_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_settings")),
    )  # fmt: skip


def _insights() -> None:
    op.create_table(
        "turn_insights",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("sentiment", sa.String(length=16), nullable=False),
        sa.Column("sentiment_score", sa.Numeric(4, 3), nullable=False),
        sa.Column("intent", sa.String(length=32), nullable=True),
        sa.Column("topics", postgresql.ARRAY(sa.String(length=100)), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sentiment IN ('positive', 'neutral', 'negative')",
                           name=op.f("ck_turn_insights_sentiment_known")),
        sa.CheckConstraint("sentiment_score BETWEEN -1 AND 1", name=op.f("ck_turn_insights_sentiment_score_range")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_turn_insights_conversation_id_conversations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["conversation_messages.id"],
                                name=op.f("fk_turn_insights_message_id_conversation_messages"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_turn_insights")),
        sa.UniqueConstraint("message_id", name=op.f("uq_turn_insights_message_id")),
    )  # fmt: skip
    op.create_index("ix_turn_insights_created_at", "turn_insights", ["created_at"])
    op.create_index(op.f("ix_turn_insights_conversation_id"), "turn_insights", ["conversation_id"])
    op.create_table(
        "competitor_mentions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("competitor", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_competitor_mentions_conversation_id_conversations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["conversation_messages.id"],
                                name=op.f("fk_competitor_mentions_message_id_conversation_messages"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_mentions")),
        sa.UniqueConstraint("message_id", "competitor", name="uq_competitor_mentions_message_competitor"),
    )  # fmt: skip
    op.create_index("ix_competitor_mentions_created_at", "competitor_mentions", ["created_at"])
    op.create_index(op.f("ix_competitor_mentions_conversation_id"), "competitor_mentions", ["conversation_id"])


def _rollups() -> None:
    op.create_table(
        "metric_message_hourly",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False)
          for name in ("patient_messages", "bot_messages", "secretary_messages")),
        sa.PrimaryKeyConstraint("hour", name=op.f("pk_metric_message_hourly")),
    )  # fmt: skip
    op.create_table(
        "response_waits",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("start_message_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_message_id", sa.Uuid(), nullable=True),
        sa.Column("responder", postgresql.ENUM(name="sender_kind", create_type=False), nullable=True),
        sa.Column("is_first", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_response_waits_conversation_id_conversations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["start_message_id"], ["conversation_messages.id"],
                                name=op.f("fk_response_waits_start_message_id_conversation_messages"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["end_message_id"], ["conversation_messages.id"],
                                name=op.f("fk_response_waits_end_message_id_conversation_messages"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_waits")),
        sa.UniqueConstraint("start_message_id", name=op.f("uq_response_waits_start_message_id")),
    )  # fmt: skip
    op.create_index("ix_response_waits_started_at", "response_waits", ["started_at"])
    op.create_index("ix_response_waits_conversation_id", "response_waits", ["conversation_id"])
    op.create_index("uq_response_waits_open", "response_waits", ["conversation_id"], unique=True,
                    postgresql_where=sa.text("ended_at IS NULL"))  # fmt: skip
    from shared.metrics.rollups import REBUILD_CONVERSATION_WAITS, REBUILD_STATEMENTS  # the one definition

    op.execute(REBUILD_CONVERSATION_WAITS)
    op.execute(MESSAGE_TRIGGER)
    op.execute(
        "CREATE TRIGGER conversation_messages_metrics AFTER INSERT OR DELETE ON conversation_messages "
        "FOR EACH ROW EXECUTE FUNCTION metric_track_message()"
    )
    for statement in REBUILD_STATEMENTS:
        op.execute(statement)


def upgrade() -> None:
    _settings()
    _insights()
    _rollups()
    # A secretary's own numbers (messages she sent in a period) without reading the clinic's messages.
    op.create_index("ix_conversation_messages_secretary_sent", "conversation_messages", ["sender_user_id", "created_at"],
                    postgresql_where=sa.text("sender_kind = 'SECRETARY'"))  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_conversation_messages_secretary_sent", table_name="conversation_messages",
                  postgresql_where=sa.text("sender_kind = 'SECRETARY'"))  # fmt: skip
    op.execute("DROP TRIGGER conversation_messages_metrics ON conversation_messages")
    op.execute("DROP FUNCTION metric_track_message()")
    op.execute("DROP FUNCTION metric_rebuild_waits(uuid)")
    op.drop_table("response_waits")
    op.drop_table("metric_message_hourly")
    op.drop_table("competitor_mentions")
    op.drop_table("turn_insights")
    op.drop_table("clinic_settings")
