"""job_runs: one row per scheduled job and slot, what ran and how it ended (issue 12's tick)

Unique on (job, slot): the claim inserts the row with ON CONFLICT DO NOTHING, so a slot has one run however many
workers try it. The same index serves "each job's latest run" (GET /api/v1/jobs, the housekeeping's retention).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Enum("RUNNING", "SUCCEEDED", "FAILED", "SKIPPED", name="job_run_status"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("outcome", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "slot", name=op.f("uq_job_runs_job_slot")),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    sa.Enum(name="job_run_status").drop(op.get_bind())
