"""Message templates and quick replies (cards 121, 122), and the order of a scripted message's files

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 04:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "message_media", sa.Column("position", sa.SmallInteger(), server_default=sa.text("0"), nullable=False)
    )
    op.create_table(
        "message_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=120), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "variables", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_message_templates_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("name_key", name=op.f("uq_message_templates_name_key")),
    )
    op.create_index(op.f("ix_message_templates_category"), "message_templates", ["category"], unique=False)
    op.create_table(
        "quick_replies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("shortcut", sa.String(length=32), nullable=True),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column(
            "contexts",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
        sa.Column("intent", sa.String(length=32), nullable=True),
        sa.Column("usage_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("usage_count >= 0", name=op.f("ck_quick_replies_usage_count_non_negative")),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_quick_replies_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quick_replies")),
        sa.UniqueConstraint("shortcut", name=op.f("uq_quick_replies_shortcut")),
    )
    op.create_index("ix_quick_replies_contexts", "quick_replies", ["contexts"], unique=False, postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_quick_replies_contexts", table_name="quick_replies", postgresql_using="gin")
    op.drop_table("quick_replies")
    op.drop_index(op.f("ix_message_templates_category"), table_name="message_templates")
    op.drop_table("message_templates")
    op.drop_column("message_media", "position")
