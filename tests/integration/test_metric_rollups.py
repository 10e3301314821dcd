"""The rollups the triggers keep (migration 0013) equal their raw definitions (shared/metrics/rollups.py), whatever
order and mix of messages arrives, when conversations are erased, and when many writers store at once."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from shared.conversations.models import SenderKind
from shared.db import session_scope
from shared.metrics.models import MessageHourly, ResponseWait
from shared.metrics.rollups import check_rollups, rebuild_rollups, skip_rollup_triggers
from shared.privacy.service import erase_contact_rows
from tests.functions.metrics_support import add_conversation, add_message

START = datetime(2026, 11, 1, 12, tzinfo=UTC)
SENDERS = [SenderKind.PATIENT] * 5 + [SenderKind.BOT] * 3 + [SenderKind.SECRETARY]


def _random_clinic(seed: int, conversations: int = 40) -> list[str]:
    """Conversations of random bursts, minutes to days apart; returns their phone numbers."""
    rng, phones = random.Random(seed), []
    with session_scope() as session:
        for _ in range(conversations):
            at = START + timedelta(hours=rng.uniform(0, 24 * 20))
            conversation = add_conversation(session, created_at=at)
            phones.append(conversation.phone_number)
            for _ in range(rng.randint(1, 15)):
                at += timedelta(seconds=rng.choice([1, 30, 300, 3600, 86400 * 2]))
                add_message(session, conversation, at, rng.choice(SENDERS))
    return phones


def test_random_conversations_keep_both_rollups_exact(backends):
    _random_clinic(seed=11)
    with session_scope() as session:
        parity = check_rollups(session)
        assert parity.exact, parity
        assert parity.hours > 20 and parity.waits > 40
        hourly_total = session.scalar(select(func.sum(MessageHourly.patient_messages + MessageHourly.bot_messages
                                                      + MessageHourly.secretary_messages)))  # fmt: skip
        assert hourly_total == session.scalar(text("SELECT count(*) FROM conversation_messages"))


def test_a_hand_counted_conversation(backends):
    with session_scope() as session:
        c = add_conversation(session, created_at=START)
        for minutes, sender in ((0, SenderKind.PATIENT), (1, SenderKind.PATIENT), (3, SenderKind.BOT),
                                (10, SenderKind.PATIENT), (70, SenderKind.SECRETARY), (71, SenderKind.BOT),
                                (80, SenderKind.PATIENT)):  # fmt: skip
            add_message(session, c, START + timedelta(minutes=minutes), sender)
    with session_scope() as session:
        waits = session.execute(select(ResponseWait.started_at, ResponseWait.ended_at, ResponseWait.responder,
                                       ResponseWait.is_first).order_by(ResponseWait.started_at)).all()  # fmt: skip
        # Three waits: 0 -> 3 by the bot (the 1-minute message is the same wait), 10 -> 70 by the secretary, and
        # 80 still open. The bot's message at 71 answers nothing.
        assert [(w.started_at - START, w.ended_at and w.ended_at - START, w.responder, w.is_first) for w in waits] == [
            (timedelta(0), timedelta(minutes=3), SenderKind.BOT, True),
            (timedelta(minutes=10), timedelta(minutes=70), SenderKind.SECRETARY, False),
            (timedelta(minutes=80), None, None, False),
        ]
        hours = session.execute(select(MessageHourly).order_by(MessageHourly.hour)).scalars().all()
        # 12:00-12:59 holds minutes 0, 1, 3, 10 (three patients', one bot's); 13:00 holds 70, 71, 80.
        assert [(h.patient_messages, h.bot_messages, h.secretary_messages) for h in hours] == [(3, 1, 0), (1, 1, 1)]
        assert check_rollups(session).exact


def test_erasing_a_contact_takes_its_counts_and_waits_away(backends, people):
    phones = _random_clinic(seed=5, conversations=12)
    with session_scope() as session:
        erase_contact_rows(session, phones[0], _principal(people.admin))
        erase_contact_rows(session, phones[1], _principal(people.admin))
    with session_scope() as session:
        assert check_rollups(session).exact


def test_many_writers_at_once_keep_the_counts(backends):
    with session_scope() as session:
        ids = [add_conversation(session, created_at=START).id for _ in range(8)]

    def write(index: int) -> None:
        rng = random.Random(index)
        for step in range(25):
            with session_scope() as session:
                from shared.conversations.models import Conversation

                conversation = session.get(Conversation, ids[index % len(ids)])
                at = datetime.now(UTC) + timedelta(microseconds=step)
                add_message(session, conversation, at, rng.choice(SENDERS))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(16)))
    with session_scope() as session:
        assert session.scalar(select(func.sum(MessageHourly.patient_messages + MessageHourly.bot_messages
                                              + MessageHourly.secretary_messages))) == 16 * 25  # fmt: skip
        parity = check_rollups(session)
        assert parity.hourly_mismatches == 0, parity


def test_a_bulk_load_that_skips_the_triggers_then_rebuilds_is_exact(backends):
    with session_scope() as session:
        skip_rollup_triggers(session)
        c = add_conversation(session, created_at=START)
        add_message(session, c, START, SenderKind.PATIENT)
        add_message(session, c, START + timedelta(minutes=2), SenderKind.BOT)
        assert session.scalar(select(func.count()).select_from(ResponseWait)) == 0  # skipped
        rebuild_rollups(session)
    with session_scope() as session:
        parity = check_rollups(session)
        assert parity.exact and parity.waits == 1 and parity.hours == 1


def _principal(user):
    from shared.auth import Principal

    return Principal(user_id=user.id, role=user.role, jti=user.id, family_id=user.id,
                     expires_at=datetime.now(UTC) + timedelta(minutes=5))  # fmt: skip


def test_messages_that_arrive_out_of_order_still_give_the_raw_waits(backends):
    rng = random.Random(3)
    with session_scope() as session:
        for _ in range(10):
            conversation = add_conversation(session, created_at=START)
            times = sorted(START + timedelta(minutes=rng.uniform(0, 600)) for _ in range(12))
            arrivals = list(zip(times, (rng.choice(SENDERS) for _ in times), strict=True))
            rng.shuffle(arrivals)  # stored in another order than they were written
            for when, sender in arrivals:
                add_message(session, conversation, when, sender)
    with session_scope() as session:
        parity = check_rollups(session)
        assert parity.exact and parity.waits > 10, parity
