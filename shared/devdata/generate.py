"""Fill a database with a generated data set (card 165) in one transaction, so a failure leaves nothing half
written. The rows go in by COPY with the metrics' rollup triggers skipped (a trigger per message costs most of
the load; shared/metrics/rollups.py), and the rollups are rebuilt from the messages in the same transaction, so
they are exact when it commits. VACUUM ANALYZE afterwards, so the planner and index-only scans see the new rows.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import text

from shared.config import get_settings
from shared.db import get_engine, session_scope, utcnow
from shared.devdata import records
from shared.devdata.copying import copy_rows
from shared.devdata.progress import ProgressBar
from shared.errors import ClinicbotError, ConfigurationError
from shared.metrics.rollups import rebuild_rollups, skip_rollup_triggers
from shared.users.passwords import hash_password

DEV_PASSWORD = "senha-dev-123"  # the generated secretaries' password, printed for developers
BATCH_CONVERSATIONS = 5_000
PHONE_NUMBERS = 10**8  # the eight digits after "9" in a mobile number
TABLES = ("users", "conversations", "leads", "conversation_messages", "metric_message_hourly", "response_waits")


@dataclass(frozen=True)
class GeneratedData:
    users: int
    conversations: int
    leads: int
    messages: int
    seconds: float
    user_emails: list[str]
    phases: dict[str, float]  # seconds: copy (generating and COPY), rollups (rebuilt), vacuum


def generate_data(
    conversations: int = 100_000,
    messages: int = 1_000_000,
    users: int = 8,
    seed: int = 165,
    *,
    password: str = DEV_PASSWORD,
    progress: Callable[[str, int], ProgressBar] | None = ProgressBar,
) -> GeneratedData:
    """Write `users` secretaries and `conversations` conversations holding `messages` messages (plus leads)."""
    if get_settings().environment == "production":
        raise ConfigurationError("generate-data writes fake patients: it refuses to run with ENVIRONMENT=production")
    if not (0 <= conversations <= PHONE_NUMBERS and messages >= 0 and users >= 0) or (messages and not conversations):
        raise ClinicbotError("counts must not be negative; messages need conversations (at most 100,000,000)")
    started = time.perf_counter()
    rng, now = random.Random(seed), utcnow()
    phases: dict[str, float] = {}
    try:
        with session_scope() as session, _no_read_timeout(session.connection().connection.dbapi_connection):
            skip_rollup_triggers(session)
            cursor = session.connection().connection.cursor()  # the session's transaction, for COPY
            taken = set(session.scalars(text("SELECT email FROM users")))
            user_rows = records.user_rows(rng, users, hash_password(password), now, taken)
            copy_rows(cursor, "users", records.USER_COLUMNS, user_rows)
            secretaries = [records.Secretary(row[0], row[2].split()[0]) for row in user_rows]
            leads = _write_conversations(cursor, rng, conversations, messages, secretaries, now, progress)
            phases["copy"] = time.perf_counter() - started
            rebuild_rollups(session)
            phases["rollups"] = time.perf_counter() - started - phases["copy"]
    except Exception as exc:
        if "uq_conversations_chat_id" in str(exc):
            raise ClinicbotError("generated phone numbers already in the database: try another --seed") from exc
        raise
    _vacuum_analyze()
    seconds = time.perf_counter() - started
    phases["vacuum"] = seconds - phases["copy"] - phases["rollups"]
    emails = [row[1] for row in user_rows]
    return GeneratedData(users, conversations, leads, messages, seconds, emails, phases)


@contextmanager
def _no_read_timeout(dbapi_connection) -> Iterator[None]:
    """Lift the pool's socket timeout (shared/db.py: 10 s, a bound for a request's statements) while a bulk load's
    statements run: rebuilding the rollups from a million messages, or vacuuming them, takes longer than that.
    pg8000 has no public setter; its socket is `_usock`."""
    sock = dbapi_connection._usock
    previous = sock.gettimeout()
    sock.settimeout(None)
    try:
        yield
    finally:
        sock.settimeout(previous)


def _write_conversations(cursor, rng, conversations, messages, secretaries, now, progress) -> int:
    counts = records.spread_messages(rng, conversations, messages)
    suffixes = rng.sample(range(PHONE_NUMBERS), conversations)
    bar = progress("messages", messages) if progress else None
    leads = 0
    for start in range(0, conversations, BATCH_CONVERSATIONS):
        batch = [records.build_conversation(rng, suffixes[n], counts[n], secretaries, now)
                 for n in range(start, min(start + BATCH_CONVERSATIONS, conversations))]  # fmt: skip
        lead_rows = [built.lead for built in batch if built.lead]
        copy_rows(cursor, "conversations", records.CONVERSATION_COLUMNS, (built.conversation for built in batch))
        copy_rows(cursor, "leads", records.LEAD_COLUMNS, lead_rows)
        rows = (message for built in batch for message in built.messages)
        copy_rows(cursor, "conversation_messages", records.MESSAGE_COLUMNS, rows, bar.advance if bar else None)
        leads += len(lead_rows)
    if bar:
        bar.close()
    return leads


def _vacuum_analyze() -> None:
    with get_engine(autocommit=True).connect() as connection, _no_read_timeout(connection.connection.dbapi_connection):
        connection.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
