"""Fill a database with a generated data set (card 165) in one transaction, so a failure leaves nothing half
written. The rows go in by COPY with the metrics' rollup triggers skipped (a trigger per message costs most of
the load; shared/metrics/rollups.py), and the rollups are rebuilt from the messages in the same transaction, so
they are exact when it commits. VACUUM ANALYZE afterwards, so the planner and index-only scans see the new rows.

The clinic settings get the generated clinic's hours (the ones its secretaries answer in), its competitors and
its money inputs; a clinic's time zone, once set, is kept.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.clinic.models import SETTINGS_ROW, ClinicSettings
from shared.config import get_settings
from shared.db import get_engine, session_scope, utcnow
from shared.devdata import outcomes, records, turns
from shared.devdata import vocabulary as words
from shared.devdata.copying import copy_rows
from shared.devdata.progress import ProgressBar
from shared.errors import ClinicbotError, ConfigurationError
from shared.metrics.rollups import rebuild_rollups, skip_rollup_triggers
from shared.users.passwords import hash_password

DEV_PASSWORD = "senha-dev-123"  # the generated secretaries' password, printed for developers
BATCH_CONVERSATIONS = 5_000
PHONE_NUMBERS = 10**8  # the eight digits after "9" in a mobile number
MONEY = {"monthly_operational_cost": Decimal("2500.00"), "implementation_cost": Decimal("15000.00"),
         "avg_transaction_value": Decimal("450.00"), "secretary_hourly_cost": Decimal("32.00")}  # fmt: skip
# (table, its columns, the Built field holding its rows), in foreign-key order
BATCH_TABLES = (
    ("conversations", records.CONVERSATION_COLUMNS, "conversation"),
    ("leads", outcomes.LEAD_COLUMNS, "lead"),
    ("conversation_messages", records.MESSAGE_COLUMNS, "messages"),
    ("edit_history", outcomes.HISTORY_COLUMNS, "history"),
    ("turn_insights", turns.INSIGHT_COLUMNS, "insights"),
    ("llm_interactions", turns.CALL_COLUMNS, "calls"),
    ("competitor_mentions", turns.MENTION_COLUMNS, "mentions"),
    ("feedback", outcomes.FEEDBACK_COLUMNS, "feedback"),
)
TABLES = ("users", *(table for table, _, _ in BATCH_TABLES), "metric_message_hourly", "response_waits",
          "clinic_settings")  # fmt: skip


@dataclass(frozen=True)
class GeneratedData:
    users: int
    conversations: int
    leads: int
    messages: int
    seconds: float
    user_emails: list[str]
    rows: dict[str, int]  # per table
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
            secretaries = records.secretaries_of(rng, user_rows)
            _write_clinic_settings(session)
            written = _write_conversations(cursor, rng, conversations, messages, secretaries, now, progress)
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
    return GeneratedData(users, conversations, written["leads"], messages, seconds, emails,
                         {"users": users, **written}, phases)  # fmt: skip


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


def _write_clinic_settings(session: Session) -> None:
    values = {"business_hours": records.CLINIC_HOURS, "competitors": list(words.COMPETITORS), **MONEY}
    statement = insert(ClinicSettings).values(id=SETTINGS_ROW, timezone=records.CLINIC_ZONE.key, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["id"], set_={**values, "updated_at": func.now()}))


def _write_conversations(cursor, rng, conversations, messages, secretaries, now, progress) -> Counter:
    counts = records.spread_messages(rng, conversations, messages)
    suffixes = rng.sample(range(PHONE_NUMBERS), conversations)
    bar = progress("messages", messages) if progress else None
    written: Counter = Counter()
    for start in range(0, conversations, BATCH_CONVERSATIONS):
        batch = [records.build_conversation(rng, suffixes[n], counts[n], secretaries, now)
                 for n in range(start, min(start + BATCH_CONVERSATIONS, conversations))]  # fmt: skip
        for table, columns, name in BATCH_TABLES:
            rows = _rows_of(batch, name)
            on_rows = bar.advance if bar and table == "conversation_messages" else None
            copy_rows(cursor, table, columns, rows, on_rows)
            written[table] += len(rows)
    if bar:
        bar.close()
    return written


def _rows_of(batch: list[records.Built], name: str) -> list[tuple]:
    if name in ("conversation", "lead"):
        return [row for built in batch if (row := getattr(built, name)) is not None]
    return [row for built in batch for row in getattr(built, name)]


def _vacuum_analyze() -> None:
    with get_engine(autocommit=True).connect() as connection, _no_read_timeout(connection.connection.dbapi_connection):
        connection.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
