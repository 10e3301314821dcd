"""The rollups' raw definitions: rebuilding them from the messages, and checking the triggers' copy against it.

The triggers of migration 0013 keep `metric_message_hourly` and `response_waits` as messages arrive; the SQL here
says what they must hold, computed from `conversation_messages` alone. `check_rollups` compares the two (the
parity test and the bench run it); `rebuild_rollups` replaces the triggers' copy (after a bulk load that skipped
them, or if a check ever disagrees).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

RAW_HOURLY = """
SELECT date_trunc('hour', created_at, 'UTC') AS hour,
       count(*) FILTER (WHERE sender_kind = 'PATIENT') AS patient_messages,
       count(*) FILTER (WHERE sender_kind = 'BOT') AS bot_messages,
       count(*) FILTER (WHERE sender_kind = 'SECRETARY') AS secretary_messages
FROM conversation_messages GROUP BY 1
"""

# A wait starts at a patient's message whose previous message in the conversation is ours, or none; it ends at our
# next message. Messages are ordered by (created_at, id). `{only}` narrows to one conversation (the trigger's
# recomputation of a conversation whose message arrived out of order).
_WAITS = """
WITH ordered AS (
    SELECT id, conversation_id, created_at, direction,
           lag(direction) OVER (PARTITION BY conversation_id ORDER BY created_at, id) AS previous_direction
    FROM conversation_messages WHERE {only}
), starts AS (
    SELECT id, conversation_id, created_at,
           row_number() OVER (PARTITION BY conversation_id ORDER BY created_at, id) = 1 AS is_first
    FROM ordered WHERE direction = 'INBOUND' AND (previous_direction IS NULL OR previous_direction = 'OUTBOUND')
)
SELECT s.conversation_id, s.id AS start_message_id, s.created_at AS started_at, e.created_at AS ended_at,
       e.id AS end_message_id, e.sender_kind AS responder, s.is_first
FROM starts s LEFT JOIN LATERAL (
    SELECT o.id, o.created_at, o.sender_kind FROM conversation_messages o
    WHERE o.conversation_id = s.conversation_id AND o.direction = 'OUTBOUND'
      AND (o.created_at, o.id) > (s.created_at, s.id)
    ORDER BY o.created_at, o.id LIMIT 1
) e ON true
"""
RAW_WAITS = _WAITS.format(only="TRUE")
WAIT_COLUMNS = "conversation_id, start_message_id, started_at, ended_at, end_message_id, responder, is_first"
# The trigger's SQL function recomputing one conversation's waits (migration 0013 creates it from this text).
REBUILD_CONVERSATION_WAITS = (
    "CREATE FUNCTION metric_rebuild_waits(conversation uuid) RETURNS void LANGUAGE sql AS $$\n"  # noqa: S608 (constants)
    "    DELETE FROM response_waits WHERE conversation_id = conversation;\n"
    f"    INSERT INTO response_waits ({WAIT_COLUMNS}) {_WAITS.format(only='conversation_id = conversation')};\n$$"
)

REBUILD_STATEMENTS = (
    "DELETE FROM metric_message_hourly",
    f"INSERT INTO metric_message_hourly (hour, patient_messages, bot_messages, secretary_messages) {RAW_HOURLY}",
    "DELETE FROM response_waits",
    f"INSERT INTO response_waits ({WAIT_COLUMNS}) {RAW_WAITS}",
)

_STORED_HOURLY = """SELECT hour, patient_messages, bot_messages, secretary_messages FROM metric_message_hourly
                    WHERE patient_messages <> 0 OR bot_messages <> 0 OR secretary_messages <> 0"""
_STORED_WAITS = f"SELECT {WAIT_COLUMNS} FROM response_waits"  # noqa: S608 (constants)


@dataclass(frozen=True)
class RollupParity:
    hours: int  # hours with messages
    waits: int
    hourly_mismatches: int  # rows in one and not the other, both ways
    wait_mismatches: int

    @property
    def exact(self) -> bool:
        return self.hourly_mismatches == 0 and self.wait_mismatches == 0


def _mismatches(session: Session, stored: str, raw: str) -> int:
    both_ways = f"SELECT (SELECT count(*) FROM (({stored}) EXCEPT ({raw})) a) + (SELECT count(*) FROM (({raw}) EXCEPT ({stored})) b)"  # noqa: E501, S608 (module constants)
    return session.execute(text(both_ways)).scalar_one()


def check_rollups(session: Session) -> RollupParity:
    """Compare what the triggers stored with the raw definitions, row by row."""
    return RollupParity(
        hours=session.execute(text(f"SELECT count(*) FROM ({RAW_HOURLY}) h")).scalar_one(),  # noqa: S608 (constants)
        waits=session.execute(text("SELECT count(*) FROM response_waits")).scalar_one(),
        hourly_mismatches=_mismatches(session, _STORED_HOURLY, RAW_HOURLY),
        wait_mismatches=_mismatches(session, _STORED_WAITS, RAW_WAITS),
    )


def rebuild_rollups(session: Session) -> None:
    """Recompute both rollups from the messages, in the caller's transaction."""
    for statement in REBUILD_STATEMENTS:
        session.execute(text(statement))


def skip_rollup_triggers(session: Session) -> None:
    """For the rest of this transaction the triggers do nothing (a bulk load then calls rebuild_rollups)."""
    session.execute(text("SET LOCAL clinicbot.skip_metric_rollups = 'on'"))
