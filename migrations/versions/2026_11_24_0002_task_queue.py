"""task queue: our record of every task, and the tasks that failed for good

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TASK_STATUS = ("PENDING", "PROCESSING", "COMPLETED", "FAILED")


def upgrade() -> None:
    postgresql.ENUM(*TASK_STATUS, name="task_status").create(op.get_bind())
    op.create_table(
        "task_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.String(length=500), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", postgresql.ENUM(*TASK_STATUS, name="task_status", create_type=False), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_records")),
        sa.UniqueConstraint("task_id", name=op.f("uq_task_records_task_id")),
    )
    op.create_index(op.f("ix_task_records_status"), "task_records", ["status"], unique=False)
    op.create_table(
        "failed_tasks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.String(length=500), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_tasks")),
        sa.UniqueConstraint("task_id", name=op.f("uq_failed_tasks_task_id")),
    )
    op.create_index(op.f("ix_failed_tasks_failed_at"), "failed_tasks", ["failed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_failed_tasks_failed_at"), table_name="failed_tasks")
    op.drop_table("failed_tasks")
    op.drop_index(op.f("ix_task_records_status"), table_name="task_records")
    op.drop_table("task_records")
    postgresql.ENUM(name="task_status").drop(op.get_bind())
