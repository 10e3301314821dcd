"""The generated data set (card 165): what `clinicbot generate-data` writes, and that the API serves it."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime

from sqlalchemy import func, select

from shared.cli import main
from shared.conversations.models import Conversation, ConversationMessage, SenderKind
from shared.db import session_scope
from shared.devdata import records
from shared.devdata.generate import DEV_PASSWORD, generate_data
from shared.devdata.progress import ProgressBar
from shared.leads.models import Lead
from shared.metrics.rollups import check_rollups
from shared.users.models import Role, User
from tests.conftest import bearer

_M = ConversationMessage


def count(session, model, *conditions) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_generated_counts_and_the_invariants_the_app_relies_on(backends):
    made = generate_data(50, 400, 3, seed=7, progress=None)

    assert (made.users, made.conversations, made.messages) == (3, 50, 400)
    with session_scope() as session:
        assert count(session, User, User.role == Role.USER) == 3
        assert count(session, Conversation) == 50 and count(session, _M) == 400
        assert count(session, Lead) == made.leads > 0
        # every conversation has messages, and its last_message_at is its newest message
        newest = select(_M.conversation_id, func.max(_M.created_at).label("at")).group_by(_M.conversation_id).subquery()
        mismatched = count(session, Conversation, ~Conversation.id.in_(
            select(newest.c.conversation_id).where(newest.c.at == Conversation.last_message_at)))  # fmt: skip
        assert mismatched == 0
        assert count(session, _M, _M.sender_kind == SenderKind.SECRETARY, _M.sender_user_id.is_(None)) == 0
        assert count(session, _M, _M.sender_kind == SenderKind.PATIENT, _M.processed_at.is_(None)) == 0
        assert count(session, _M, _M.created_at > func.now()) == 0
        assert session.scalar(select(func.count(func.distinct(Conversation.phone_number)))) == 50
        assert session.scalar(select(func.max(Lead.maturity_score))) <= 100
        assert count(session, Conversation, ~Conversation.phone_number.regexp_match(r"^55\d{2}9\d{8}$")) == 0
        # the COPY skipped the rollup triggers; the rebuild in the same transaction made the rollups exact
        parity = check_rollups(session)
        assert parity.exact and parity.hours > 0 and parity.waits > 0, parity


def test_the_api_lists_and_searches_generated_conversations(backends, secretary_api, make_user, login):
    made = generate_data(50, 400, 2, seed=11, progress=None)
    admin = bearer(login(make_user(Role.ADMIN))["access_token"])
    secretary = secretary_api.post("/api/v1/auth/login", json={"email": made.user_emails[0], "password": DEV_PASSWORD})
    assert secretary.status_code == 200
    with session_scope() as session:
        theirs = count(
            session, Conversation, Conversation.assigned_to_user_id == User.id, User.email == made.user_emails[0]
        )

    listed = secretary_api.get("/api/v1/conversations", headers=admin, query_string={"limit": 100}).json
    mine = secretary_api.get("/api/v1/conversations", headers=bearer(secretary.json["access_token"])).json
    found = secretary_api.get("/api/v1/conversations/search", headers=admin, query_string={"q": "consulta"}).json

    assert listed["total"] == 50 and all(item["last_message"] for item in listed["items"])
    assert mine["total"] == theirs
    assert 0 < found["total"] < 50


def test_the_same_seed_gives_the_same_conversations():
    now = datetime(2026, 11, 1, tzinfo=UTC)
    secretaries = [records.Secretary(records.new_id(random.Random(1)), "Ana")]

    def build(seed: int) -> list:
        rng = random.Random(seed)
        return [records.build_conversation(rng, n, 12, secretaries, now) for n in range(20)]

    assert build(3) == build(3) != build(4)
    bodies = [message[8] for built in build(3) for message in built.messages]
    assert len(set(bodies)) > 100  # varied text, not a handful of fixed lines


def test_generate_data_command_and_its_progress_bar(backends, capsys):
    assert main(["generate-data", "--conversations", "20", "--messages", "60", "--users", "1", "--seed", "3"]) == 0

    captured = capsys.readouterr()
    assert "20 conversations" in captured.out and "60 messages" in captured.out
    assert "messages [" in captured.err and "100%" in captured.err


def test_the_progress_bar_prints_a_line_per_tenth_when_not_on_a_terminal():
    out = io.StringIO()
    bar = ProgressBar("messages", 100, out)
    for _ in range(20):
        bar.advance(5)
    bar.close()

    lines = out.getvalue().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("messages [" + "#" * 30 + "] 100% 100/100")


def test_bad_counts_are_refused_before_anything_is_written(backends):
    assert main(["generate-data", "--conversations", "0", "--messages", "10"]) == 1
    with session_scope() as session:
        assert count(session, User) == 0
