"""Fill a database with a generated data set (card 165): one transaction, so a failure leaves nothing half
written; VACUUM ANALYZE afterwards, so the planner and index-only scans see the new rows at once."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.config import get_settings
from shared.db import get_engine, utcnow
from shared.devdata import records
from shared.devdata.copying import copy_rows
from shared.devdata.progress import ProgressBar
from shared.errors import ClinicbotError, ConfigurationError
from shared.users.passwords import hash_password

DEV_PASSWORD = "senha-dev-123"  # the generated secretaries' password, printed for developers
BATCH_CONVERSATIONS = 5_000
PHONE_NUMBERS = 10**8  # the eight digits after "9" in a mobile number
TABLES = ("users", "conversations", "leads", "conversation_messages")


@dataclass(frozen=True)
class GeneratedData:
    users: int
    conversations: int
    leads: int
    messages: int
    seconds: float
    user_emails: list[str]


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
    connection = get_engine().raw_connection()
    try:
        cursor = connection.cursor()
        taken = {row[0] for row in _fetch(cursor, "SELECT email FROM users")}
        user_rows = records.user_rows(rng, users, hash_password(password), now, taken)
        copy_rows(cursor, "users", records.USER_COLUMNS, user_rows)
        secretaries = [records.Secretary(row[0], row[2].split()[0]) for row in user_rows]
        leads = _write_conversations(cursor, rng, conversations, messages, secretaries, now, progress)
        connection.commit()
    except Exception as exc:
        connection.rollback()
        if "uq_conversations_chat_id" in str(exc):
            raise ClinicbotError("generated phone numbers already in the database: try another --seed") from exc
        raise
    finally:
        connection.close()
    _vacuum_analyze()
    emails = [row[1] for row in user_rows]
    return GeneratedData(users, conversations, leads, messages, time.perf_counter() - started, emails)


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


def _fetch(cursor, statement: str) -> list[tuple]:
    cursor.execute(statement)
    return cursor.fetchall()


def _vacuum_analyze() -> None:
    with get_engine(autocommit=True).connect() as connection:
        connection.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
