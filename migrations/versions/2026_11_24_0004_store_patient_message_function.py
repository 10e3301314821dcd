"""store_patient_message(): the intake's one statement as a plpgsql function

The statement `shared.conversations.patient_messages` ran took Postgres longer to plan than to execute,
and it was planned again on every call (pg8000 sends unnamed statements). Inside a plpgsql function its
plan is cached for the life of the connection: Postgres CPU per stored message fell from ~0.85 to ~0.46 ms.
The plan cache settles on the generic plan after five calls by itself; pinning it with
`SET plan_cache_mode` on the function measured slower (the SET is paid on every call).
Change the function with a new migration that replaces it; the intake calls it by parameter name.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SIGNATURE = """store_patient_message(
    p_conversation_id uuid, p_chat_id text, p_phone_number text, p_name text, p_at timestamptz,
    p_maintenance boolean, p_chat_limit bigint, p_message_id uuid, p_kind message_kind, p_from_phone text,
    p_to_phone text, p_body text, p_media_url text, p_media_mimetype text, p_media_filename text,
    p_latitude numeric, p_longitude numeric, p_location_name text, p_location_address text,
    p_waha_message_id text, p_message_timestamp timestamptz, p_turn_record_id uuid, p_day text,
    p_turn_task_id text, p_target text, p_media_record_id uuid, p_media_task_id text, p_fetch_media boolean)"""

# The statement the intake sent before this revision, unchanged but for p_ parameters and qualified columns: one
# statement, so one snapshot and atomic, exactly as before. What each CTE does is told in
# shared/conversations/patient_messages.py.
FUNCTION = f"""
CREATE FUNCTION {SIGNATURE}
RETURNS TABLE (id uuid, conversation_id uuid, processing_note text, turn_task_id text, media_task_id text)
LANGUAGE plpgsql AS $function$
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH conversation AS (
    INSERT INTO conversations AS c (id, chat_id, phone_number, name, status, is_urgent, last_message_at)
    VALUES (p_conversation_id, p_chat_id, p_phone_number, p_name, 'ACTIVE', false, p_at)
    ON CONFLICT (chat_id) DO UPDATE
       SET last_message_at = GREATEST(c.last_message_at, EXCLUDED.last_message_at),
           name = COALESCE(c.name, EXCLUDED.name),
           updated_at = now()
    RETURNING c.id
), decision AS (
    SELECT c.id AS conversation_id,
           CASE WHEN p_maintenance THEN 'maintenance'
                WHEN (SELECT count(*) FROM conversation_messages m
                       WHERE m.conversation_id = c.id AND m.direction = 'INBOUND'
                         AND m.created_at > now() - interval '1 minute') >= p_chat_limit THEN 'rate_limited'
           END AS note
      FROM conversation c
), message AS (
    INSERT INTO conversation_messages AS cm (
        id, conversation_id, direction, sender_kind, kind, from_phone, to_phone, body, media_url,
        media_mimetype, media_filename, latitude, longitude, location_name, location_address,
        waha_message_id, message_timestamp, processed_at, processing_note)
    SELECT p_message_id, d.conversation_id, 'INBOUND', 'PATIENT', p_kind, p_from_phone,
           p_to_phone, p_body, p_media_url, p_media_mimetype, p_media_filename, p_latitude, p_longitude,
           p_location_name, p_location_address, p_waha_message_id, p_message_timestamp,
           CASE WHEN d.note IS NOT NULL THEN now() END, d.note
      FROM decision d
    ON CONFLICT (waha_message_id) DO NOTHING
    RETURNING cm.id, cm.conversation_id, cm.processing_note
), turn AS (
    INSERT INTO task_records AS t (id, task_id, queue, target, payload, status, attempts)
    SELECT p_turn_record_id,
           CASE WHEN m.processing_note = 'maintenance'
                THEN 'maintenance-' || m.conversation_id || '-' || p_day ELSE p_turn_task_id END,
           'messages', p_target,
           CASE WHEN m.processing_note = 'maintenance'
                THEN jsonb_build_object('kind', 'maintenance_notice', 'conversation_id', m.conversation_id)
                ELSE jsonb_build_object('kind', 'process_message', 'conversation_id', m.conversation_id,
                                        'message_id', m.id) END,
           'PENDING', 0
      FROM message m
     WHERE m.processing_note IS DISTINCT FROM 'rate_limited'
    ON CONFLICT (task_id) DO NOTHING
    RETURNING t.task_id
), media AS (
    INSERT INTO task_records AS t (id, task_id, queue, target, payload, status, attempts)
    SELECT p_media_record_id, p_media_task_id, 'media', p_target,
           jsonb_build_object('kind', 'fetch_media', 'message_id', m.id), 'PENDING', 0
      FROM message m
     WHERE p_fetch_media
    ON CONFLICT (task_id) DO NOTHING
    RETURNING t.task_id
)
SELECT m.id, m.conversation_id, m.processing_note::text,
       (SELECT t.task_id FROM turn t)::text, (SELECT t.task_id FROM media t)::text
  FROM message m;
END
$function$
"""  # noqa: S608 - constant text, no input


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
