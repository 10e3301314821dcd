"""Edit history of leads and conversations, merged leads (cards 123, 124)

`edit_history` is filled by AFTER UPDATE triggers: one row per changed column, attributed to the user in the
transaction-local setting `clinicbot.user_id` (NULL for the assistant). Columns that change on their own (the
update time, the last message time, the derived phone key) are not edits and are skipped, in the trigger's WHEN
too, so the intake's per-message conversation update does not even call the function. Deleting a row (LGPD
erasure) deletes its history: the old values are the patient's data too.

Leads get `phone_key` (the number's spelling-independent key; see shared/leads/phone.py), backfilled here with
that same function so there is one rule, and `merged_into_id`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 04:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (entity_type, columns that are not edits)
TRACKED = {
    "leads": ("lead", ("updated_at", "phone_key")),
    "conversations": ("conversation", ("updated_at", "last_message_at")),
}

RECORD_FUNCTION = """
CREATE FUNCTION record_edit_history() RETURNS trigger LANGUAGE plpgsql AS $function$
DECLARE
    old_row jsonb := to_jsonb(OLD) - TG_ARGV[1]::text[];
    new_row jsonb := to_jsonb(NEW) - TG_ARGV[1]::text[];
    actor uuid := nullif(current_setting('clinicbot.user_id', true), '')::uuid;
BEGIN
    INSERT INTO edit_history (id, entity_type, entity_id, field, old_value, new_value, user_id, edited_at)
    SELECT gen_random_uuid(), TG_ARGV[0], NEW.id, changed.key, old_row -> changed.key, changed.value, actor,
           clock_timestamp()
      FROM jsonb_each(new_row) AS changed
     WHERE changed.value IS DISTINCT FROM old_row -> changed.key;
    RETURN NULL;
END
$function$
"""

FORGET_FUNCTION = """
CREATE FUNCTION forget_edit_history() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    DELETE FROM edit_history WHERE entity_type = TG_ARGV[0] AND entity_id = OLD.id;
    RETURN NULL;
END
$function$
"""


def _skipped(columns: tuple[str, ...]) -> str:
    return "{" + ",".join(columns) + "}"


def _create_triggers(table: str, entity_type: str, skipped: tuple[str, ...]) -> None:
    noise = f"'{_skipped(skipped)}'::text[]"
    op.execute(
        f"CREATE TRIGGER {table}_edit_history AFTER UPDATE ON {table} FOR EACH ROW "
        f"WHEN ((to_jsonb(OLD) - {noise}) IS DISTINCT FROM (to_jsonb(NEW) - {noise})) "
        f"EXECUTE FUNCTION record_edit_history('{entity_type}', '{_skipped(skipped)}')"
    )
    op.execute(
        f"CREATE TRIGGER {table}_forget_edit_history AFTER DELETE ON {table} FOR EACH ROW "
        f"EXECUTE FUNCTION forget_edit_history('{entity_type}')"
    )


def _backfill_phone_keys() -> None:
    from shared.leads.phone import phone_key  # the application's one rule; see the docstring

    connection = op.get_bind()
    leads = connection.execute(sa.text("SELECT id, phone_number FROM leads")).all()
    keyed = [{"id": lead_id, "key": phone_key(phone)} for lead_id, phone in leads]
    if keyed:
        connection.execute(sa.text("UPDATE leads SET phone_key = :key WHERE id = :id"), keyed)


def upgrade() -> None:
    op.create_table(
        "edit_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=63), nullable=False),
        sa.Column("old_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("entity_type IN ('lead', 'conversation')", name=op.f("ck_edit_history_entity_type_known")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_edit_history_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edit_history")),
    )
    op.create_index(
        "ix_edit_history_entity_type_entity_id_edited_at",
        "edit_history",
        ["entity_type", "entity_id", "edited_at"],
        unique=False,
    )
    op.add_column("leads", sa.Column("phone_key", sa.String(length=32), nullable=True))
    op.add_column("leads", sa.Column("merged_into_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_leads_merged_into_id_leads"), "leads", "leads", ["merged_into_id"], ["id"], ondelete="SET NULL"
    )
    op.create_index(op.f("ix_leads_merged_into_id"), "leads", ["merged_into_id"], unique=False)
    _backfill_phone_keys()  # before the triggers: a backfill is not an edit
    op.create_index(
        "ix_leads_live_phone_key", "leads", ["phone_key"], unique=False, postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.execute(RECORD_FUNCTION)
    op.execute(FORGET_FUNCTION)
    for table, (entity_type, skipped) in TRACKED.items():
        _create_triggers(table, entity_type, skipped)


def downgrade() -> None:
    for table in TRACKED:
        op.execute(f"DROP TRIGGER {table}_forget_edit_history ON {table}")
        op.execute(f"DROP TRIGGER {table}_edit_history ON {table}")
    op.execute("DROP FUNCTION forget_edit_history()")
    op.execute("DROP FUNCTION record_edit_history()")
    op.drop_index("ix_leads_live_phone_key", table_name="leads", postgresql_where=sa.text("deleted_at IS NULL"))
    op.drop_index(op.f("ix_leads_merged_into_id"), table_name="leads")
    op.drop_constraint(op.f("fk_leads_merged_into_id_leads"), "leads", type_="foreignkey")
    op.drop_column("leads", "merged_into_id")
    op.drop_column("leads", "phone_key")
    op.drop_index("ix_edit_history_entity_type_entity_id_edited_at", table_name="edit_history")
    op.drop_table("edit_history")
